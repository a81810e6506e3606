// The checked entries of detect2d's ops (xraylift/detect2d/ops.hpp): every input is checked here, with messages
// naming the argument, then the op goes through the dispatcher (ops/ops.cpp), which picks the CPU, CUDA, autograd
// or autocast kernel (ops/cpu, ops/cuda, ops/autograd, ops/autocast).
#include "xraylift/detect2d/ops.hpp"

#include <cmath>

#include "../ops/ops.hpp"
#include "tensor_text.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::detect2d {
using detail::shape_of;
namespace {

void check_roi_options(const RoIAlignOptions& o) {
  XL_CHECK(o.pooled_height > 0 && o.pooled_width > 0, "roi_align: pooled size must be positive, got ", o.pooled_height,
           " x ", o.pooled_width);
  XL_CHECK(std::isfinite(o.spatial_scale) && o.spatial_scale > 0, "roi_align: spatial_scale must be > 0, got ",
           o.spatial_scale);
}

void check_rois(const torch::Tensor& rois, const torch::Tensor& reference, const char* where) {
  XL_CHECK(rois.defined() && rois.dim() == 2 && rois.size(1) == 5, where,
           ": rois must be [K, 5] (batch index, x0, y0, x1, y1), got ", shape_of(rois));
  XL_CHECK(rois.device() == reference.device(), where, ": rois on ", rois.device(), " but features on ",
           reference.device());
  XL_CHECK(rois.scalar_type() == reference.scalar_type(), where, ": rois dtype ", rois.scalar_type(),
           " differs from features dtype ", reference.scalar_type());
}

// CPU tensors only: on CUDA reading the min/max back would synchronise the host every call, so the CUDA kernels
// instead skip RoIs whose batch index is out of range (zero output, no gradient), docs/detect2d.md.
void check_batch_indices(const torch::Tensor& rois, std::int64_t batch, const char* where) {
  if (rois.size(0) == 0 || rois.is_cuda()) return;
  const auto idx = rois.select(1, 0);
  const double lo = idx.min().item<double>(), hi = idx.max().item<double>();
  XL_CHECK(lo >= 0 && hi < batch, where, ": roi batch indices must lie in [0, ", batch, "), got [", lo, ", ", hi, "]");
}

// A tensor on a device without kernels in this build fails with a message, not the dispatcher's error.
void check_device(const torch::Tensor& t, const char* op, const char* where) {
  const bool ok = t.device().is_cpu() || (t.is_cuda() && ops::has_kernel(op, c10::DispatchKey::CUDA));
  XL_CHECK(ok, where, ": tensor on ", t.device(),
           t.is_cuda() ? " but this build has no CUDA kernels (XRAYLIFT_CUDA=OFF)" : ", expected cpu or cuda");
}

void check_input(const torch::Tensor& input, const char* where) {
  XL_CHECK(input.defined() && input.dim() == 4, where, ": input must be [N, C, H, W], got ", shape_of(input));
  XL_CHECK(input.is_floating_point(), where, ": input must be floating point, got ", input.scalar_type());
  check_device(input, "roi_align", where);
}

}  // namespace

torch::Tensor roi_align_forward(const torch::Tensor& input, const torch::Tensor& rois, const RoIAlignOptions& o) {
  check_input(input, "roi_align");
  check_rois(rois, input, "roi_align");
  check_roi_options(o);
  check_batch_indices(rois, input.size(0), "roi_align");
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return ops::roi_align(input, rois, o.spatial_scale, o.pooled_height, o.pooled_width, o.sampling_ratio, o.aligned);
}

torch::Tensor roi_align_backward(const torch::Tensor& grad_output, const torch::Tensor& rois, const RoIAlignOptions& o,
                                 std::int64_t batch, std::int64_t channels, std::int64_t height, std::int64_t width) {
  XL_CHECK(grad_output.defined() && grad_output.dim() == 4, "roi_align_backward: grad must be [K, C, ph, pw], got ",
           shape_of(grad_output));
  check_device(grad_output, "_roi_align_backward", "roi_align_backward");
  check_rois(rois, grad_output, "roi_align_backward");
  check_roi_options(o);
  XL_CHECK(grad_output.size(0) == rois.size(0) && grad_output.size(1) == channels &&
               grad_output.size(2) == o.pooled_height && grad_output.size(3) == o.pooled_width,
           "roi_align_backward: grad shape ", shape_of(grad_output), " does not match ", rois.size(0), " rois x ",
           channels, " channels x ", o.pooled_height, " x ", o.pooled_width);
  XL_CHECK(batch >= 0 && channels >= 0 && height > 0 && width > 0, "roi_align_backward: bad input shape [", batch, ", ",
           channels, ", ", height, ", ", width, "]");
  check_batch_indices(rois, batch, "roi_align_backward");
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return ops::roi_align_backward(grad_output, rois, o.spatial_scale, o.pooled_height, o.pooled_width, batch, channels,
                                 height, width, o.sampling_ratio, o.aligned);
}

torch::Tensor roi_align(const torch::Tensor& input, const torch::Tensor& rois, const RoIAlignOptions& o) {
  check_input(input, "roi_align");
  XL_CHECK(rois.defined(), "roi_align: rois are undefined");
  // Half/bf16 features are pooled in float32 (the autocast policy of ops/autocast, applied here with or without
  // autocast): box coordinates of a 1024-pixel view lose whole pixels in bf16. RoIs carry no gradient.
  const bool reduced = input.scalar_type() == torch::kHalf || input.scalar_type() == torch::kBFloat16;
  const auto x = reduced ? input.to(torch::kFloat) : input;
  const auto r = rois.to(x.scalar_type()).detach();
  check_rois(r, x, "roi_align");
  check_roi_options(o);
  check_batch_indices(r, x.size(0), "roi_align");
  return ops::roi_align(x, r, o.spatial_scale, o.pooled_height, o.pooled_width, o.sampling_ratio, o.aligned);
}

torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold) {
  XL_CHECK(boxes.defined() && boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be [N, 4], got ",
           shape_of(boxes));
  XL_CHECK(scores.defined() && scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be [",
           boxes.size(0), "], got ", shape_of(scores));
  XL_CHECK(boxes.device() == scores.device(), "nms: boxes on ", boxes.device(), " but scores on ", scores.device());
  XL_CHECK(boxes.is_floating_point(), "nms: boxes must be floating point, got ", boxes.scalar_type());
  XL_CHECK(std::isfinite(iou_threshold), "nms: iou_threshold must be finite, got ", iou_threshold);
  check_device(boxes, "nms", "nms");
  if (boxes.size(0) == 0) return torch::empty({0}, boxes.options().dtype(torch::kLong));
  return ops::nms(boxes.detach(), scores.detach(), iou_threshold);
}

torch::Tensor batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& idxs,
                          double iou_threshold) {
  XL_CHECK(boxes.defined() && boxes.dim() == 2 && boxes.size(1) == 4, "batched_nms: boxes must be [N, 4], got ",
           shape_of(boxes));
  XL_CHECK(idxs.defined() && idxs.dim() == 1 && idxs.size(0) == boxes.size(0), "batched_nms: idxs must be [",
           boxes.size(0), "], got ", shape_of(idxs));
  XL_CHECK(!idxs.is_floating_point(), "batched_nms: idxs must be integer, got ", idxs.scalar_type());
  if (boxes.size(0) == 0) return torch::empty({0}, boxes.options().dtype(torch::kLong));
  // Offset each group far from the others so no cross-group pair overlaps (torchvision's trick).
  // The span stays a 0-d tensor on the boxes' device: no host synchronisation (.item()) on CUDA.
  const auto b = boxes.to(torch::kDouble);
  const auto span = b.max() - b.min() + 1.0;
  const auto offsets = idxs.to(torch::kDouble).unsqueeze(1) * span;
  return nms((b + offsets).to(boxes.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat), scores,
             iou_threshold);
}

}  // namespace xraylift::detect2d
