#include "xraylift/drr/render_tensor.hpp"

#include <cstring>

#include "xraylift/core/error.hpp"
#include "xraylift/drr/cuda_backend.hpp"
#include "xraylift/drr/render.hpp"

namespace xraylift::drr {

torch::Tensor render_tensor(const torch::Tensor& hu, const core::VolumeGeometry& geometry, const core::Rig& rig,
                            const RenderOptions& options) {
  XL_CHECK(hu.defined() && hu.dim() == 3, "drr render_tensor: expected a 3-D [nz, ny, nx] tensor, got ",
           hu.defined() ? hu.dim() : 0, " dimensions");
  XL_CHECK(hu.size(0) == geometry.dims.z() && hu.size(1) == geometry.dims.y() && hu.size(2) == geometry.dims.x(),
           "drr render_tensor: tensor shape [", hu.size(0), ", ", hu.size(1), ", ", hu.size(2),
           "] does not match the geometry dims (x, y, z) = (", geometry.dims.transpose(), ")");
  XL_CHECK(hu.is_floating_point() || hu.scalar_type() == torch::kInt16 || hu.scalar_type() == torch::kInt32,
           "drr render_tensor: dtype must be floating point, int16 or int32");
  options.validate();
  const torch::Tensor hu_f = hu.to(torch::kFloat32).contiguous();

  if (!hu.is_cuda()) {
    core::VolumeF volume(geometry);
    std::memcpy(volume.data(), hu_f.data_ptr<float>(), sizeof(float) * static_cast<std::size_t>(volume.size()));
    RenderOptions cpu = options;
    cpu.device = Device::kCpu;
    cpu.mask = false;
    DrrImages images = render(volume, rig, cpu);
    return torch::from_blob(images.line_integral.data(), {images.views, images.height, images.width},
                            torch::kFloat32)
        .clone();
  }

  const GridF grid = grid_of(geometry, "drr render_tensor: geometry");
  validate_rig_for_volume(rig, geometry);
  std::vector<core::PinholeF> cameras;
  for (const auto& cam : rig) cameras.push_back(cam.to_pod());
  torch::Tensor mu = torch::empty_like(hu_f);
  cuda::attenuation_on_device(hu_f.data_ptr<float>(), mu.data_ptr<float>(), static_cast<std::size_t>(mu.numel()),
                              options.attenuation());
  cuda::CudaVolume volume(mu.data_ptr<float>(), grid, /*host_pointer=*/false);
  cuda::KernelOptions k;
  k.integrator = options.integrator == Integrator::kSiddon ? 0 : 1;
  k.step_mm = static_cast<float>(options.step_voxels * geometry.spacing.minCoeff());
  torch::Tensor out = torch::empty({static_cast<long>(rig.size()), rig[0].height(), rig[0].width()},
                                   hu_f.options().dtype(torch::kFloat32));
  volume.render(cameras, k, out.data_ptr<float>());
  return out;
}

}  // namespace xraylift::drr
