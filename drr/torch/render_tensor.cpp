#include "xraylift/drr/render_tensor.hpp"

#include <cstring>

#ifdef XRAYLIFT_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include "xraylift/core/error.hpp"
#include "xraylift/drr/cuda_backend.hpp"
#include "xraylift/drr/render.hpp"

namespace xraylift::drr {

namespace {

void check_hu_tensor(const torch::Tensor& hu, const core::VolumeGeometry& geometry) {
  XL_CHECK(hu.defined() && hu.dim() == 3, "drr render_tensor: expected a 3-D [nz, ny, nx] tensor, got ",
           hu.defined() ? hu.dim() : 0, " dimensions");
  XL_CHECK(hu.size(0) == geometry.dims.z() && hu.size(1) == geometry.dims.y() && hu.size(2) == geometry.dims.x(),
           "drr render_tensor: tensor shape [", hu.size(0), ", ", hu.size(1), ", ", hu.size(2),
           "] does not match the geometry dims (x, y, z) = (", geometry.dims.transpose(), ")");
  XL_CHECK(hu.is_floating_point() || hu.scalar_type() == torch::kInt16 || hu.scalar_type() == torch::kInt32,
           "drr render_tensor: dtype must be floating point, int16 or int32");
  XL_CHECK(hu.device().is_cpu() || hu.is_cuda(), "drr render_tensor: unsupported device ", hu.device().str());
}

bool same_attenuation(const RenderOptions& a, const RenderOptions& b) {
  return a.mu_water_per_mm == b.mu_water_per_mm && a.bone == b.bone && a.mu_bone_per_mm == b.mu_bone_per_mm &&
         a.bone_start_hu == b.bone_start_hu && a.half_texture == b.half_texture;
}

}  // namespace

ResidentVolume::ResidentVolume(const torch::Tensor& hu, const core::VolumeGeometry& geometry,
                               const RenderOptions& options, bool both_integrators)
    : geometry_(geometry), options_(options), device_(hu.defined() ? hu.device() : torch::Device(torch::kCPU)) {
  check_hu_tensor(hu, geometry);
  options.validate();
  const GridF grid = grid_of(geometry, "drr render_tensor: geometry");
  prepared_siddon_ = both_integrators || options.integrator == Integrator::kSiddon;
  prepared_trilinear_ = both_integrators || options.integrator == Integrator::kTrilinear;
  if (!hu.is_cuda()) {
    const torch::Tensor hu_f = hu.to(torch::kFloat32).contiguous();
    core::VolumeF volume(geometry);
    std::memcpy(volume.data(), hu_f.data_ptr<float>(), sizeof(float) * static_cast<std::size_t>(volume.size()));
    mu_cpu_ = std::make_shared<core::VolumeF>(attenuation_volume(volume, options));  // checks finiteness
    return;
  }
#ifdef XRAYLIFT_WITH_CUDA
  c10::cuda::CUDAGuard guard(hu.device());
  void* stream = at::cuda::getCurrentCUDAStream(hu.device().index()).stream();
  const torch::Tensor hu_f = hu.to(torch::kFloat32).contiguous();
  mu_ = torch::empty_like(hu_f);
  const long long bad =
      cuda::attenuation_on_device(hu_f.data_ptr<float>(), mu_.data_ptr<float>(), static_cast<std::size_t>(mu_.numel()),
                                  options.attenuation(), stream);
  XL_CHECK(bad < 0, "drr: volume voxel ", bad, " is not finite");
  cuda::VolumeOptions vo;
  vo.siddon = prepared_siddon_;
  vo.trilinear = prepared_trilinear_;
  vo.half_texture = options.half_texture;
  volume_ = std::make_unique<cuda::CudaVolume>(mu_.data_ptr<float>(), grid, /*host_pointer=*/false, vo, stream,
                                               /*borrow_device_pointer=*/true);
#else
  throw core::InputError("drr render_tensor: the tensor is on CUDA but this build has no CUDA support");
#endif
}

ResidentVolume::~ResidentVolume() = default;  // volume_ (which waits for its renders) goes before mu_

torch::Tensor ResidentVolume::render(const core::Rig& rig, const RenderOptions& options) const {
  options.validate();
  XL_CHECK(same_attenuation(options, options_),
           "drr ResidentVolume: the attenuation model / half_texture differ from the ones the volume was built "
           "with; build a new ResidentVolume for them");
  if (mu_cpu_) {
    RenderOptions cpu = options;
    cpu.device = Device::kCpu;
    cpu.mask = false;
    DrrImages images = render_attenuation(*mu_cpu_, rig, cpu);
    return torch::from_blob(images.line_integral.data(), {images.views, images.height, images.width}, torch::kFloat32)
        .clone();
  }
  const bool siddon = options.integrator == Integrator::kSiddon;
  XL_CHECK(siddon ? prepared_siddon_ : prepared_trilinear_, "drr ResidentVolume: ", to_string(options.integrator),
           " was not prepared (construct with both_integrators = true)");
  validate_rig_for_volume(rig, geometry_);
  for (const auto& cam : rig)
    XL_CHECK(cam.width() == rig[0].width() && cam.height() == rig[0].height(), "drr render_tensor: camera '",
             cam.name(), "' is ", cam.width(), " x ", cam.height(), " but camera '", rig[0].name(), "' is ",
             rig[0].width(), " x ", rig[0].height(), "; all views of one render must share the image size");
  std::vector<core::PinholeF> cameras;
  cameras.reserve(rig.size());
  for (const auto& cam : rig) cameras.push_back(cam.to_pod());
  cuda::KernelOptions k;
  k.integrator = options.integrator;
  k.step_mm = static_cast<float>(options.trilinear_step_mm(geometry_.spacing.minCoeff()));
#ifdef XRAYLIFT_WITH_CUDA
  c10::cuda::CUDAGuard guard(device_);
  torch::Tensor out = torch::empty({static_cast<long>(rig.size()), rig[0].height(), rig[0].width()},
                                   torch::TensorOptions().dtype(torch::kFloat32).device(device_));
  volume_->render(cameras, k, out.data_ptr<float>(), at::cuda::getCurrentCUDAStream(device_.index()).stream());
  return out;
#else
  throw core::InputError("drr render_tensor: this build has no CUDA support");
#endif
}

torch::Tensor render_tensor(const torch::Tensor& hu, const core::VolumeGeometry& geometry, const core::Rig& rig,
                            const RenderOptions& options) {
  const ResidentVolume volume(hu, geometry, options, /*both_integrators=*/false);
  return volume.render(rig, options);
}

}  // namespace xraylift::drr
