#pragma once
// Faster R-CNN with a ResNet-FPN backbone, in libtorch. Parameter names mirror torchvision's
// fasterrcnn_resnet50_fpn (backbone.body.layer1.0.conv1.weight, backbone.fpn.inner_blocks.0.0.weight,
// rpn.head.cls_logits.weight, roi_heads.box_head.fc6.weight, roi_heads.box_predictor.cls_score.weight, ...)
// so converted weights load by name (detect2d/weights.hpp).
//
// Images: [B, C, H, W] float, C = model.in_channels (1 for grayscale X-ray; 3 when a grayscale view is replicated
// for converted RGB weights: pass 1-channel images and the model replicates them). Boxes: core::Box2D layout,
// continuous pixel coordinates (x0, y0, x1, y1). Labels: 1..num_classes (0 is background).
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"

namespace xraylift::detect2d {

struct ModelConfig {
  // Backbone.
  int depth = 50;                  // 18, 34 or 50
  int base_width = 64;             // channels of layer1 (64 for torchvision weights; smaller for tiny models)
  int in_channels = 1;             // 1, or 3 for converted RGB weights (1-channel input is replicated)
  std::string norm = "frozen_bn";  // frozen_bn (converted weights) | bn (trainable) | gn (GroupNorm, from scratch)
  int gn_groups = 32;
  int frozen_stages = 0;  // 0: nothing frozen; k: stem and layer1..layer(k-1) get no gradient
  // FPN: backbone stages (1..4 = layer1..layer4, strides 4..32) feeding the pyramid, plus extra stride-2 levels.
  std::vector<int> fpn_stages = {2, 3, 4};
  int fpn_extra_levels = 2;  // seed: strides 8, 16, 32 + 64, 128
  int fpn_channels = 256;
  // Anchors: per level, sizes = stride * anchor_base_factor * scale for each scale, times each ratio (h / w).
  std::vector<double> anchor_scales = {1, 2, 4};
  std::vector<double> anchor_ratios = {0.5, 1, 2};
  double anchor_base_factor = 1.0;
  // RPN.
  int rpn_pre_nms_top_n_train = 2000, rpn_pre_nms_top_n_test = 1000;
  int rpn_post_nms_top_n_train = 1000, rpn_post_nms_top_n_test = 1000;
  double rpn_nms_threshold = 0.7;
  double rpn_fg_iou = 0.7, rpn_bg_iou = 0.3;
  int rpn_batch_per_image = 256;
  double rpn_positive_fraction = 0.5;
  // RoI head.
  int num_classes = 1;  // foreground classes (nodule)
  int roi_pool_size = 7;
  int roi_sampling_ratio = 2;
  int representation_size = 1024;
  int roi_batch_per_image = 512;
  double roi_positive_fraction = 0.25;
  double roi_fg_iou = 0.5, roi_bg_iou = 0.5;
  double ignore_iof_threshold = 0.5;  // see ImageTargets::ignore (MMDetection's ignore_iof_thr)
  std::vector<double> box_coder_stds = {0.1, 0.1, 0.2, 0.2};
  double canonical_scale = 224, canonical_level = 4;
  // Inference.
  double score_threshold = 0.05;
  double nms_threshold = 0.5;
  int detections_per_image = 100;
  // Input normalisation (applied inside the model): (x - mean) / std.
  double image_mean = 0.5, image_std = 0.25;

  // Reads every key of a `model` section (unknown keys are reported by check_no_unknown_keys).
  static ModelConfig from_config(const core::Config& section);
  void validate() const;  // throws ConfigError naming the field
  std::vector<std::int64_t> strides() const;
  int anchors_per_location() const { return static_cast<int>(anchor_scales.size() * anchor_ratios.size()); }
};

struct ImageTargets {
  torch::Tensor boxes;   // [G, 4] float
  torch::Tensor labels;  // [G] int64, 1..num_classes
  // [I, 4] float ignore regions (may be undefined or empty): anchors and proposals lying mostly inside one
  // (intersection over their own area > ignore_iof_threshold) are neither positives nor negatives
  // (MMDetection's MaxIoUAssigner with gt_bboxes_ignore and ignore_iof_thr).
  torch::Tensor ignore;
};

struct Detections {
  torch::Tensor boxes;         // [D, 4] image pixels
  torch::Tensor scores;        // [D]
  torch::Tensor labels;        // [D] int64
  torch::Tensor roi_features;  // [D, fpn_channels, roi_pool_size, roi_pool_size] (RoIAlign of the final boxes)
};

// What the MV2D 3D head consumes: per-image detections with their RoI features, and the FPN maps.
struct DetectorOutput {
  std::vector<torch::Tensor> features;  // FPN levels, [B, fpn_channels, H / s, W / s]
  std::vector<std::int64_t> strides;
  std::vector<Detections> detections;  // one per image
};

// torchvision's FrozenBatchNorm2d: affine from fixed statistics (buffers named like BatchNorm2d's).
class FrozenBatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit FrozenBatchNorm2dImpl(std::int64_t channels, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias, running_mean, running_var;
  double eps;
};
TORCH_MODULE(FrozenBatchNorm2d);

class ResNetImpl;
class FeaturePyramidImpl;

// ResNet body + FPN ("backbone.body", "backbone.fpn").
class BackboneImpl : public torch::nn::Module {
 public:
  explicit BackboneImpl(const ModelConfig& config);
  std::vector<torch::Tensor> forward(const torch::Tensor& images);  // normalised images -> FPN levels
  std::shared_ptr<torch::nn::Module> body, fpn;

 private:
  ModelConfig config_;
};
TORCH_MODULE(Backbone);

class FasterRCNNImpl : public torch::nn::Module {
 public:
  explicit FasterRCNNImpl(const ModelConfig& config);

  // Training: loss terms loss_objectness, loss_rpn_box_reg, loss_classifier, loss_box_reg (+ "loss", their sum).
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& images, const std::vector<ImageTargets>& targets);
  // Inference (no gradient bookkeeping is forced; call under NoGradGuard and eval()).
  DetectorOutput detect(const torch::Tensor& images);
  // Joint training (the MV2D head): the loss terms of losses() and, from the same forward pass, the FPN levels
  // (with gradient) and the detections of the current weights (boxes without gradient; no roi_features).
  struct TrainingOutput {
    std::map<std::string, torch::Tensor> losses;
    DetectorOutput output;
  };
  TrainingOutput losses_and_detections(const torch::Tensor& images, const std::vector<ImageTargets>& targets);
  // The FPN levels of normalised, channel-adapted images.
  std::vector<torch::Tensor> features(const torch::Tensor& images);
  // RoIAlign of arbitrary boxes (one tensor [K, 4] per image) on FPN levels (for the MV2D head).
  torch::Tensor roi_features(const std::vector<torch::Tensor>& features, const std::vector<torch::Tensor>& boxes);

  const ModelConfig& config() const { return config_; }
  Backbone backbone{nullptr};
  std::shared_ptr<torch::nn::Module> rpn, roi_heads;

 private:
  torch::Tensor prepare(const torch::Tensor& images) const;
  void check_targets(const torch::Tensor& images, const std::vector<ImageTargets>& targets) const;
  TrainingOutput run(const torch::Tensor& images, const std::vector<ImageTargets>* targets, bool detections, bool pool);
  ModelConfig config_;
};
TORCH_MODULE(FasterRCNN);

// Label assignment of candidates (anchors, proposals) [M, 4] to truths gt [G, 4] (torchvision's Matcher, with
// MMDetection's ignore regions): per candidate the index of its best truth when IoU >= fg_iou (and, with
// allow_low_quality, each truth's best candidates), -1 below bg_iou (negative), -2 in between, -3 when it lies
// inside an ignore region (intersection over its own area > ignore_iof_threshold): neither positive nor negative.
torch::Tensor assign_boxes(const torch::Tensor& gt, const torch::Tensor& ignore, const torch::Tensor& candidates,
                           double fg_iou, double bg_iou, bool allow_low_quality, double ignore_iof_threshold);

// Box coding (Faster R-CNN parametrisation, torchvision's BoxCoder): deltas (dx, dy, dw, dh) * weights.
torch::Tensor encode_boxes(const torch::Tensor& reference, const torch::Tensor& targets,
                           const std::vector<double>& weights);
torch::Tensor decode_boxes(const torch::Tensor& deltas, const torch::Tensor& reference,
                           const std::vector<double>& weights);
// Anchors of one level, in the order (y, x, anchor) of a [H, W, A] head output: [H * W * A, 4].
torch::Tensor level_anchors(std::int64_t height, std::int64_t width, std::int64_t stride,
                            const std::vector<double>& sizes, const std::vector<double>& ratios,
                            const torch::TensorOptions& options);

}  // namespace xraylift::detect2d
