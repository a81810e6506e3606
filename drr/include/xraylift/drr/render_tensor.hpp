#pragma once
// Torch entry of the renderer (library xraylift::drr_torch): training renders on the fly on the GPU without host
// copies. Include only from torch users; the rest of drr stays torch-free.
#include <torch/torch.h>

#include "xraylift/core/rig.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/drr/options.hpp"

namespace xraylift::drr {

// hu: a [nz, ny, nx] tensor (x fastest, any real dtype) of HU on the CPU or a CUDA device; geometry gives its
// spacing and placement (dims must match). Returns float32 line integrals [views, H, W] on hu's device.
// CUDA tensors run the CUDA kernels on the current default stream (one launch for all views); the HU -> mu
// conversion happens on the device too. CPU tensors run the CPU reference. options.device is ignored.
torch::Tensor render_tensor(const torch::Tensor& hu, const core::VolumeGeometry& geometry, const core::Rig& rig,
                            const RenderOptions& options);

}  // namespace xraylift::drr
