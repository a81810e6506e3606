// Autocast (CUDA) kernel of xraylift::nms: boxes and scores compared in float32 (torchvision's policy).
#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include "../ops.hpp"

namespace xraylift::detect2d {
namespace {

at::Tensor nms_autocast(const at::Tensor& dets, const at::Tensor& scores, double iou_threshold) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::Autocast);
  return ops::nms(at::autocast::cached_cast(at::kFloat, dets, c10::DeviceType::CUDA),
                  at::autocast::cached_cast(at::kFloat, scores, c10::DeviceType::CUDA), iou_threshold);
}

}  // namespace

TORCH_LIBRARY_IMPL(xraylift, Autocast, m) { m.impl("nms", TORCH_FN(nms_autocast)); }

}  // namespace xraylift::detect2d
