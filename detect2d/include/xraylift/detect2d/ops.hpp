#pragma once
// Detection ops that libtorch lacks: RoIAlign (forward, backward, autograd) and NMS / batched NMS.
// Each entry checks its inputs (src/ops.cpp), then calls the op through libtorch's dispatcher: the ops are
// registered as torchvision registers its own (library "xraylift": xraylift::roi_align, xraylift::_roi_align_backward,
// xraylift::nms) with kernels per dispatch key in detect2d/ops/{cpu,cuda,autograd,autocast}/ (docs/detect2d.md).
//
// Coordinates follow core::Box2D: continuous image pixels, pixel (c, r) covers [c, c+1) x [r, r+1).
// A feature map of stride s has its cell i centred at (i + 0.5) s; with aligned = true a box coordinate x maps
// to the feature index x / s - 0.5 (torchvision's aligned=True), so pixel centres line up exactly.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace xraylift::detect2d {

struct RoIAlignOptions {
  std::int64_t pooled_height = 7;
  std::int64_t pooled_width = 7;
  double spatial_scale = 1.0;       // 1 / stride of the feature map
  std::int64_t sampling_ratio = 2;  // samples per bin side; <= 0: adaptive ceil(bin size)
  bool aligned = true;
};

// input [N, C, H, W]; rois [K, 5] = (batch index, x0, y0, x1, y1) in image pixels -> [K, C, ph, pw].
// Differentiable with respect to input (the op's autograd kernel). Half/bf16 input is pooled in float32.
torch::Tensor roi_align(const torch::Tensor& input, const torch::Tensor& rois, const RoIAlignOptions& options);

// The op below autograd (no graph is recorded), in the input's dtype.
torch::Tensor roi_align_forward(const torch::Tensor& input, const torch::Tensor& rois, const RoIAlignOptions& options);
// grad_output [K, C, ph, pw] -> grad_input [batch, channels, height, width].
torch::Tensor roi_align_backward(const torch::Tensor& grad_output, const torch::Tensor& rois,
                                 const RoIAlignOptions& options, std::int64_t batch, std::int64_t channels,
                                 std::int64_t height, std::int64_t width);

// Greedy NMS: boxes [N, 4] (x0, y0, x1, y1), scores [N]. Returns the kept indices (int64) in order of decreasing
// score; equal scores keep the lower index first. A box is dropped when its IoU with a kept box is > threshold.
torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold);
// NMS applied independently per group id (idxs [N], integer); same ordering rules over the whole set.
torch::Tensor batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& idxs,
                          double iou_threshold);

// FPN level assignment (Lin et al. eq. 1, torchvision's LevelMapper): level index in [0, strides.size()) for each
// box [K, 4], from k = floor(canonical_level + log2(sqrt(area) / canonical_scale)) clamped to the levels present.
torch::Tensor assign_fpn_levels(const torch::Tensor& boxes, const std::vector<std::int64_t>& strides,
                                double canonical_scale = 224.0, double canonical_level = 4.0);

// RoIAlign over FPN levels: each RoI is pooled from its assigned level. features[i] has stride strides[i].
// rois [K, 5] as above. Output [K, C, ph, pw] (spatial_scale in options is ignored; taken from strides).
torch::Tensor multi_level_roi_align(const std::vector<torch::Tensor>& features,
                                    const std::vector<std::int64_t>& strides, const torch::Tensor& rois,
                                    RoIAlignOptions options, double canonical_scale = 224.0,
                                    double canonical_level = 4.0);

// Pairwise IoU [N, 4] x [M, 4] -> [N, M] (tensor code, any device).
torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b);
// Pairwise intersection over the area of a's box ("iof", MMDetection's bbox_overlaps mode) -> [N, M].
torch::Tensor box_iof(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace xraylift::detect2d
