#pragma once
// Torch entry of the renderer (library xraylift::drr_torch): training renders on the fly on the GPU without host
// copies. Include only from torch users; the rest of drr stays torch-free.
#include <torch/torch.h>

#include <memory>

#include "xraylift/core/rig.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/drr/options.hpp"

namespace xraylift::drr {

namespace cuda {
class CudaVolume;
}

// A CT volume kept ready for many renders (training draws many rigs from one case; docs/drr.md "GPU path"):
// HU -> mu, the Siddon copy, the (float or half) texture and the support box are made once, on hu's device.
// On CUDA each render is one asynchronous launch per 32 views on torch's current stream into a tensor from
// torch's caching allocator: no upload, no cudaMalloc/cudaFree, no host synchronisation. On the CPU it runs the
// CPU reference (same results as render()). Construction checks the HU like the CPU path: a non-finite voxel
// throws InputError naming it (one host synchronisation, at construction only).
class ResidentVolume {
 public:
  // hu: [nz, ny, nx] (x fastest, any real dtype, int16 or int32) on the CPU or a CUDA device; geometry gives its
  // spacing and placement. options: the attenuation model, half_texture, and the integrator(s) to prepare for
  // (both when `both_integrators`, else only options.integrator).
  ResidentVolume(const torch::Tensor& hu, const core::VolumeGeometry& geometry, const RenderOptions& options,
                 bool both_integrators = true);
  ~ResidentVolume();
  ResidentVolume(const ResidentVolume&) = delete;
  ResidentVolume& operator=(const ResidentVolume&) = delete;

  // float32 line integrals [views, H, W] on the volume's device. options: integrator and trilinear step (the
  // attenuation model and half_texture were fixed at construction; a different one throws InputError).
  torch::Tensor render(const core::Rig& rig, const RenderOptions& options) const;
  torch::Tensor render(const core::Rig& rig) const { return render(rig, options_); }

  const torch::Device& device() const { return device_; }
  const core::VolumeGeometry& geometry() const { return geometry_; }

 private:
  core::VolumeGeometry geometry_;
  RenderOptions options_;
  torch::Device device_;
  bool prepared_siddon_ = false, prepared_trilinear_ = false;
  torch::Tensor mu_;                          // CUDA: the attenuation volume (borrowed by volume_ for Siddon)
  std::shared_ptr<core::VolumeF> mu_cpu_;     // CPU: the attenuation volume
  std::unique_ptr<cuda::CudaVolume> volume_;  // CUDA
};

// One-shot render (a ResidentVolume built and dropped per call: it re-converts, re-uploads the texture and
// synchronises once; keep a ResidentVolume when rendering the same volume again).
// hu: a [nz, ny, nx] tensor (x fastest, any real dtype) of HU on the CPU or a CUDA device; geometry gives its
// spacing and placement (dims must match). Returns float32 line integrals [views, H, W] on hu's device.
// CUDA tensors run the CUDA kernels on torch's current stream of hu's device (one launch per 32 views); the
// HU -> mu conversion happens on the device too. CPU tensors run the CPU reference. options.device is ignored.
torch::Tensor render_tensor(const torch::Tensor& hu, const core::VolumeGeometry& geometry, const core::Rig& rig,
                            const RenderOptions& options);

}  // namespace xraylift::drr
