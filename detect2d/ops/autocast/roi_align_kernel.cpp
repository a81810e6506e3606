// Autocast (CUDA) kernel of xraylift::roi_align: half/bf16 features and RoIs are pooled in float32, because box
// coordinates of a 1024-pixel view lose whole pixels in bf16 (torchvision's policy). Unlike torchvision the
// output stays float32 (docs/detect2d.md): the RoI head's next layer casts it under autocast anyway.
#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include "../ops.hpp"

namespace xraylift::detect2d {
namespace {

at::Tensor roi_align_autocast(const at::Tensor& input, const at::Tensor& rois, double spatial_scale,
                              std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t sampling_ratio,
                              bool aligned) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::Autocast);
  return ops::roi_align(at::autocast::cached_cast(at::kFloat, input, c10::DeviceType::CUDA),
                        at::autocast::cached_cast(at::kFloat, rois, c10::DeviceType::CUDA), spatial_scale,
                        pooled_height, pooled_width, sampling_ratio, aligned);
}

}  // namespace

TORCH_LIBRARY_IMPL(xraylift, Autocast, m) { m.impl("roi_align", TORCH_FN(roi_align_autocast)); }

}  // namespace xraylift::detect2d
