// Model configuration, ResNet body (BasicBlock / Bottleneck) and the FPN.
#include "xraylift/detect2d/model.hpp"

#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::detect2d {

ModelConfig ModelConfig::from_config(const core::Config& c) {
  ModelConfig m;
  m.depth = c.get("depth", m.depth);
  m.base_width = c.get("base_width", m.base_width);
  m.in_channels = c.get("in_channels", m.in_channels);
  m.norm = c.get("norm", m.norm);
  m.gn_groups = c.get("gn_groups", m.gn_groups);
  m.frozen_stages = c.get("frozen_stages", m.frozen_stages);
  m.fpn_stages = c.get("fpn.stages", m.fpn_stages);
  m.fpn_extra_levels = c.get("fpn.extra_levels", m.fpn_extra_levels);
  m.fpn_channels = c.get("fpn.channels", m.fpn_channels);
  m.anchor_scales = c.get("anchors.scales", m.anchor_scales);
  m.anchor_ratios = c.get("anchors.ratios", m.anchor_ratios);
  m.anchor_base_factor = c.get("anchors.base_factor", m.anchor_base_factor);
  m.rpn_pre_nms_top_n_train = c.get("rpn.pre_nms_top_n_train", m.rpn_pre_nms_top_n_train);
  m.rpn_pre_nms_top_n_test = c.get("rpn.pre_nms_top_n_test", m.rpn_pre_nms_top_n_test);
  m.rpn_post_nms_top_n_train = c.get("rpn.post_nms_top_n_train", m.rpn_post_nms_top_n_train);
  m.rpn_post_nms_top_n_test = c.get("rpn.post_nms_top_n_test", m.rpn_post_nms_top_n_test);
  m.rpn_nms_threshold = c.get("rpn.nms_threshold", m.rpn_nms_threshold);
  m.rpn_fg_iou = c.get("rpn.fg_iou", m.rpn_fg_iou);
  m.rpn_bg_iou = c.get("rpn.bg_iou", m.rpn_bg_iou);
  m.rpn_batch_per_image = c.get("rpn.batch_per_image", m.rpn_batch_per_image);
  m.rpn_positive_fraction = c.get("rpn.positive_fraction", m.rpn_positive_fraction);
  m.num_classes = c.get("roi.num_classes", m.num_classes);
  m.roi_pool_size = c.get("roi.pool_size", m.roi_pool_size);
  m.roi_sampling_ratio = c.get("roi.sampling_ratio", m.roi_sampling_ratio);
  m.representation_size = c.get("roi.representation_size", m.representation_size);
  m.roi_batch_per_image = c.get("roi.batch_per_image", m.roi_batch_per_image);
  m.roi_positive_fraction = c.get("roi.positive_fraction", m.roi_positive_fraction);
  m.roi_fg_iou = c.get("roi.fg_iou", m.roi_fg_iou);
  m.roi_bg_iou = c.get("roi.bg_iou", m.roi_bg_iou);
  m.ignore_iof_threshold = c.get("ignore_iof_threshold", m.ignore_iof_threshold);
  m.box_coder_stds = c.get("roi.box_coder_stds", m.box_coder_stds);
  m.canonical_scale = c.get("roi.canonical_scale", m.canonical_scale);
  m.canonical_level = c.get("roi.canonical_level", m.canonical_level);
  m.score_threshold = c.get("test.score_threshold", m.score_threshold);
  m.nms_threshold = c.get("test.nms_threshold", m.nms_threshold);
  m.detections_per_image = c.get("test.detections_per_image", m.detections_per_image);
  m.image_mean = c.get("image_mean", m.image_mean);
  m.image_std = c.get("image_std", m.image_std);
  m.validate();
  return m;
}

void ModelConfig::validate() const {
  auto fail = [](const std::string& what) { throw core::ConfigError("model config: " + what); };
  if (depth != 18 && depth != 34 && depth != 50) fail(core::cat("depth must be 18, 34 or 50, got ", depth));
  if (base_width < 1) fail(core::cat("base_width must be >= 1, got ", base_width));
  if (in_channels != 1 && in_channels != 3) fail(core::cat("in_channels must be 1 or 3, got ", in_channels));
  if (norm != "frozen_bn" && norm != "bn" && norm != "gn")
    fail(core::cat("norm must be frozen_bn, bn or gn, got '", norm, "'"));
  if (norm == "gn" && (base_width % gn_groups) != 0)
    fail(core::cat("gn_groups ", gn_groups, " must divide base_width ", base_width));
  if (frozen_stages < 0 || frozen_stages > 5) fail(core::cat("frozen_stages must be in [0, 5], got ", frozen_stages));
  if (fpn_stages.empty()) fail("fpn.stages must not be empty");
  for (std::size_t i = 0; i < fpn_stages.size(); ++i) {
    if (fpn_stages[i] < 1 || fpn_stages[i] > 4) fail(core::cat("fpn.stages entries must be 1..4, got ", fpn_stages[i]));
    if (i > 0 && fpn_stages[i] != fpn_stages[i - 1] + 1) fail("fpn.stages must be consecutive and increasing");
  }
  if (fpn_extra_levels < 0) fail(core::cat("fpn.extra_levels must be >= 0, got ", fpn_extra_levels));
  if (fpn_channels < 1) fail(core::cat("fpn.channels must be >= 1, got ", fpn_channels));
  if (anchor_scales.empty() || anchor_ratios.empty()) fail("anchors.scales and anchors.ratios must not be empty");
  for (double v : anchor_scales)
    if (!(v > 0)) fail(core::cat("anchors.scales must be > 0, got ", v));
  for (double v : anchor_ratios)
    if (!(v > 0)) fail(core::cat("anchors.ratios must be > 0, got ", v));
  if (!(rpn_nms_threshold > 0 && rpn_nms_threshold <= 1)) fail("rpn.nms_threshold must be in (0, 1]");
  if (!(rpn_bg_iou <= rpn_fg_iou)) fail("rpn.bg_iou must be <= rpn.fg_iou");
  if (!(roi_bg_iou <= roi_fg_iou)) fail("roi.bg_iou must be <= roi.fg_iou");
  if (!(ignore_iof_threshold > 0 && ignore_iof_threshold <= 1)) fail("ignore_iof_threshold must be in (0, 1]");
  if (rpn_batch_per_image < 1 || roi_batch_per_image < 1) fail("batch_per_image values must be >= 1");
  if (num_classes < 1) fail(core::cat("roi.num_classes must be >= 1, got ", num_classes));
  if (roi_pool_size < 1) fail(core::cat("roi.pool_size must be >= 1, got ", roi_pool_size));
  if (representation_size < 1) fail("roi.representation_size must be >= 1");
  if (box_coder_stds.size() != 4) fail("roi.box_coder_stds must have 4 entries");
  for (double v : box_coder_stds)
    if (!(v > 0)) fail("roi.box_coder_stds must be > 0");
  if (!(image_std > 0)) fail(core::cat("image_std must be > 0, got ", image_std));
  if (detections_per_image < 1) fail("test.detections_per_image must be >= 1");
}

std::vector<std::int64_t> ModelConfig::strides() const {
  std::vector<std::int64_t> s;
  for (int stage : fpn_stages) s.push_back(std::int64_t{1} << (stage + 1));
  for (int i = 0; i < fpn_extra_levels; ++i) s.push_back(s.back() * 2);
  return s;
}

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(std::int64_t channels, double eps_) : eps(eps_) {
  weight = register_buffer("weight", torch::ones({channels}));
  bias = register_buffer("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
}

torch::Tensor FrozenBatchNorm2dImpl::forward(const torch::Tensor& x) {
  const auto scale = weight * (running_var + eps).rsqrt();
  const auto shift = bias - running_mean * scale;
  return x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1});
}

namespace {

torch::nn::AnyModule make_norm(const ModelConfig& c, std::int64_t channels) {
  if (c.norm == "frozen_bn") return torch::nn::AnyModule(FrozenBatchNorm2d(channels));
  if (c.norm == "bn") return torch::nn::AnyModule(torch::nn::BatchNorm2d(channels));
  std::int64_t groups = std::min<std::int64_t>(c.gn_groups, channels);
  while (channels % groups != 0) --groups;
  return torch::nn::AnyModule(torch::nn::GroupNorm(groups, channels));
}

torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride, std::int64_t pad,
                       bool bias = false) {
  torch::nn::Conv2d m(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(bias));
  torch::nn::init::kaiming_normal_(m->weight, 0.0, torch::kFanOut, torch::kReLU);
  return m;
}

// BasicBlock (ResNet-18/34) and Bottleneck (ResNet-50) with torchvision's names; stride on the 3x3 conv (v1.5).
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const ModelConfig& c, std::int64_t in, std::int64_t width, std::int64_t stride, bool bottleneck)
      : bottleneck_(bottleneck) {
    const std::int64_t out = bottleneck ? width * 4 : width;
    if (bottleneck) {
      conv1_ = register_module("conv1", conv(in, width, 1, 1, 0));
      bn1_ = make_norm(c, width);
      register_module("bn1", bn1_.ptr());
      conv2_ = register_module("conv2", conv(width, width, 3, stride, 1));
      bn2_ = make_norm(c, width);
      register_module("bn2", bn2_.ptr());
      conv3_ = register_module("conv3", conv(width, out, 1, 1, 0));
      bn3_ = make_norm(c, out);
      register_module("bn3", bn3_.ptr());
    } else {
      conv1_ = register_module("conv1", conv(in, width, 3, stride, 1));
      bn1_ = make_norm(c, width);
      register_module("bn1", bn1_.ptr());
      conv2_ = register_module("conv2", conv(width, width, 3, 1, 1));
      bn2_ = make_norm(c, width);
      register_module("bn2", bn2_.ptr());
    }
    if (stride != 1 || in != out) {
      downsample_ = torch::nn::Sequential(conv(in, out, 1, stride, 0));
      downsample_->push_back(make_norm(c, out));
      register_module("downsample", downsample_);
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(bn1_.forward(conv1_->forward(x)));
    y = bn2_.forward(conv2_->forward(y));
    if (bottleneck_) y = bn3_.forward(conv3_->forward(torch::relu(y)));
    const auto identity = downsample_ ? downsample_->forward(x) : x;
    return torch::relu(y + identity);
  }

 private:
  bool bottleneck_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::AnyModule bn1_, bn2_, bn3_;
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Block);

}  // namespace

class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ModelConfig& c) {
    const bool bottleneck = c.depth == 50;
    const std::vector<int> blocks = c.depth == 18 ? std::vector<int>{2, 2, 2, 2} : std::vector<int>{3, 4, 6, 3};
    conv1_ = register_module("conv1", conv(c.in_channels, c.base_width, 7, 2, 3));
    bn1_ = make_norm(c, c.base_width);
    register_module("bn1", bn1_.ptr());
    std::int64_t in = c.base_width;
    for (int stage = 0; stage < 4; ++stage) {
      const std::int64_t width = static_cast<std::int64_t>(c.base_width) << stage;
      torch::nn::Sequential layer;
      for (int b = 0; b < blocks[stage]; ++b) {
        layer->push_back(Block(c, in, width, (b == 0 && stage > 0) ? 2 : 1, bottleneck));
        in = bottleneck ? width * 4 : width;
      }
      out_channels.push_back(in);
      layers_.push_back(register_module("layer" + std::to_string(stage + 1), layer));
    }
    // Zero-init the last norm of each residual branch is a from-scratch trick we skip: keep torchvision defaults.
    if (c.frozen_stages > 0) {
      for (auto& p : conv1_->parameters()) p.set_requires_grad(false);
      for (auto& p : bn1_.ptr()->parameters()) p.set_requires_grad(false);
      for (int s = 0; s < c.frozen_stages - 1 && s < 4; ++s)
        for (auto& p : layers_[s]->parameters()) p.set_requires_grad(false);
    }
  }

  // Outputs of layer1..layer4 (strides 4, 8, 16, 32).
  std::vector<torch::Tensor> forward(const torch::Tensor& x) {
    auto y = torch::relu(bn1_.forward(conv1_->forward(x)));
    y = torch::max_pool2d(y, 3, 2, 1);
    std::vector<torch::Tensor> outs;
    for (auto& layer : layers_) {
      y = layer->forward(y);
      outs.push_back(y);
    }
    return outs;
  }

  std::vector<std::int64_t> out_channels;

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::AnyModule bn1_;
  std::vector<torch::nn::Sequential> layers_;
};

// torchvision's FeaturePyramidNetwork (inner_blocks.i.0 1x1, layer_blocks.i.0 3x3) + LastLevelMaxPool-style
// extra levels (max_pool2d kernel 1, stride 2) for the strides beyond the last backbone stage.
class FeaturePyramidImpl : public torch::nn::Module {
 public:
  FeaturePyramidImpl(const std::vector<std::int64_t>& in_channels, std::int64_t channels, int extra_levels)
      : extra_levels_(extra_levels) {
    inner_blocks_ = register_module("inner_blocks", torch::nn::ModuleList());
    layer_blocks_ = register_module("layer_blocks", torch::nn::ModuleList());
    for (auto in : in_channels) {
      auto inner = conv(in, channels, 1, 1, 0, true);
      auto outer = conv(channels, channels, 3, 1, 1, true);
      for (auto* m : {&inner, &outer}) {
        torch::nn::init::kaiming_uniform_((*m)->weight, 1.0);
        torch::nn::init::zeros_((*m)->bias);
      }
      inner_blocks_->push_back(torch::nn::Sequential(inner));
      layer_blocks_->push_back(torch::nn::Sequential(outer));
      inner_.push_back(inner);
      outer_.push_back(outer);
    }
  }

  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& inputs) {
    const std::size_t n = inputs.size();
    std::vector<torch::Tensor> outs(n);
    auto last = inner_[n - 1]->forward(inputs[n - 1]);
    outs[n - 1] = outer_[n - 1]->forward(last);
    for (std::size_t i = n - 1; i-- > 0;) {
      const auto lateral = inner_[i]->forward(inputs[i]);
      const auto top_down = torch::nn::functional::interpolate(
          last, torch::nn::functional::InterpolateFuncOptions()
                    .size(std::vector<std::int64_t>{lateral.size(2), lateral.size(3)})
                    .mode(torch::kNearest));
      last = lateral + top_down;
      outs[i] = outer_[i]->forward(last);
    }
    for (int e = 0; e < extra_levels_; ++e) outs.push_back(torch::max_pool2d(outs.back(), 1, 2, 0));
    return outs;
  }

 private:
  int extra_levels_;
  torch::nn::ModuleList inner_blocks_{nullptr}, layer_blocks_{nullptr};
  std::vector<torch::nn::Conv2d> inner_, outer_;
};

BackboneImpl::BackboneImpl(const ModelConfig& config) : config_(config) {
  auto resnet = std::make_shared<ResNetImpl>(config);
  std::vector<std::int64_t> in_channels;
  for (int stage : config.fpn_stages) in_channels.push_back(resnet->out_channels[stage - 1]);
  body = register_module("body", resnet);
  fpn = register_module(
      "fpn", std::make_shared<FeaturePyramidImpl>(in_channels, config.fpn_channels, config.fpn_extra_levels));
}

std::vector<torch::Tensor> BackboneImpl::forward(const torch::Tensor& images) {
  const auto stages = std::static_pointer_cast<ResNetImpl>(body)->forward(images);
  std::vector<torch::Tensor> selected;
  for (int s : config_.fpn_stages) selected.push_back(stages[s - 1]);
  return std::static_pointer_cast<FeaturePyramidImpl>(fpn)->forward(selected);
}

}  // namespace xraylift::detect2d
