#pragma once
// The dispatcher schemas of detect2d's ops (library fragment "xraylift", registered in ops.cpp), as torchvision
// registers its ops: one name per op; kernels per dispatch key in cpu/, cuda/, autograd/ and autocast/. Internal
// to detect2d: callers use the checked entries of xraylift/detect2d/ops.hpp.
#include <ATen/core/Tensor.h>
#include <c10/core/DispatchKey.h>

#include <cstdint>

namespace xraylift::detect2d::ops {

// xraylift::roi_align(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned)
at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois, double spatial_scale, std::int64_t pooled_height,
                     std::int64_t pooled_width, std::int64_t sampling_ratio, bool aligned);
// xraylift::_roi_align_backward(grad, rois, spatial_scale, pooled_height, pooled_width, batch_size, channels,
//                               height, width, sampling_ratio, aligned)
at::Tensor roi_align_backward(const at::Tensor& grad, const at::Tensor& rois, double spatial_scale,
                              std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t batch_size,
                              std::int64_t channels, std::int64_t height, std::int64_t width,
                              std::int64_t sampling_ratio, bool aligned);
// xraylift::nms(dets, scores, iou_threshold) -> kept indices in decreasing score order
at::Tensor nms(const at::Tensor& dets, const at::Tensor& scores, double iou_threshold);

// Whether a kernel of op `name` ("roi_align", "_roi_align_backward", "nms") is registered for `key`.
bool has_kernel(const char* name, c10::DispatchKey key);

}  // namespace xraylift::detect2d::ops
