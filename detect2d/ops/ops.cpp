// Schemas of detect2d's ops and their typed dispatcher handles (torchvision's csrc/ops/roi_align.cpp pattern).
#include "ops.hpp"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

namespace xraylift::detect2d::ops {

TORCH_LIBRARY_FRAGMENT(xraylift, m) {
  m.def(
      "roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
      "int sampling_ratio, bool aligned) -> Tensor");
  m.def(
      "_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
      "int batch_size, int channels, int height, int width, int sampling_ratio, bool aligned) -> Tensor");
  m.def("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor");
}

at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois, double spatial_scale, std::int64_t pooled_height,
                     std::int64_t pooled_width, std::int64_t sampling_ratio, bool aligned) {
  static auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("xraylift::roi_align", "").typed<decltype(roi_align)>();
  return op.call(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned);
}

at::Tensor roi_align_backward(const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                              std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t batch_size,
                              std::int64_t channels, std::int64_t height, std::int64_t width,
                              std::int64_t sampling_ratio, bool aligned) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("xraylift::_roi_align_backward", "")
                       .typed<decltype(roi_align_backward)>();
  return op.call(grad, rois, spatial_scale, pooled_height, pooled_width, batch_size, channels, height, width,
                 sampling_ratio, aligned);
}

at::Tensor nms(const at::Tensor& dets, const at::Tensor& scores, double iou_threshold) {
  static auto op = c10::Dispatcher::singleton().findSchemaOrThrow("xraylift::nms", "").typed<decltype(nms)>();
  return op.call(dets, scores, iou_threshold);
}

bool has_kernel(const char* name, c10::DispatchKey key) {
  const auto handle = c10::Dispatcher::singleton().findSchema({std::string("xraylift::") + name, ""});
  return handle.has_value() && handle->hasKernelForDispatchKey(key);
}

}  // namespace xraylift::detect2d::ops
