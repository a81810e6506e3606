// Box coding, anchors, the RPN, the RoI box head and the Faster R-CNN assembly (training losses and inference).
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/detect2d/ops.hpp"

namespace xraylift::detect2d {

namespace {
const double kBoxScaleClamp = std::log(1000.0 / 16.0);
using torch::indexing::Slice;
}  // namespace

torch::Tensor encode_boxes(const torch::Tensor& ref, const torch::Tensor& gt, const std::vector<double>& w) {
  const auto rw = ref.select(1, 2) - ref.select(1, 0), rh = ref.select(1, 3) - ref.select(1, 1);
  const auto rx = ref.select(1, 0) + 0.5 * rw, ry = ref.select(1, 1) + 0.5 * rh;
  const auto gw = gt.select(1, 2) - gt.select(1, 0), gh = gt.select(1, 3) - gt.select(1, 1);
  const auto gx = gt.select(1, 0) + 0.5 * gw, gy = gt.select(1, 1) + 0.5 * gh;
  return torch::stack(
      {w[0] * (gx - rx) / rw, w[1] * (gy - ry) / rh, w[2] * torch::log(gw / rw), w[3] * torch::log(gh / rh)}, 1);
}

torch::Tensor decode_boxes(const torch::Tensor& deltas, const torch::Tensor& ref, const std::vector<double>& w) {
  const auto r = ref.to(deltas.scalar_type());
  const auto rw = r.select(1, 2) - r.select(1, 0), rh = r.select(1, 3) - r.select(1, 1);
  const auto rx = r.select(1, 0) + 0.5 * rw, ry = r.select(1, 1) + 0.5 * rh;
  const auto d = deltas.reshape({deltas.size(0), -1, 4});
  const auto dx = d.select(2, 0) / w[0], dy = d.select(2, 1) / w[1];
  const auto dw = (d.select(2, 2) / w[2]).clamp_max(kBoxScaleClamp),
             dh = (d.select(2, 3) / w[3]).clamp_max(kBoxScaleClamp);
  const auto cx = dx * rw.unsqueeze(1) + rx.unsqueeze(1), cy = dy * rh.unsqueeze(1) + ry.unsqueeze(1);
  const auto pw = torch::exp(dw) * rw.unsqueeze(1), ph = torch::exp(dh) * rh.unsqueeze(1);
  return torch::stack({cx - 0.5 * pw, cy - 0.5 * ph, cx + 0.5 * pw, cy + 0.5 * ph}, 2).reshape(deltas.sizes());
}

torch::Tensor level_anchors(std::int64_t height, std::int64_t width, std::int64_t stride,
                            const std::vector<double>& sizes, const std::vector<double>& ratios,
                            const torch::TensorOptions& options) {
  std::vector<float> base;
  for (double size : sizes)
    for (double ratio : ratios) {  // ratio = h / w, area = size^2 (torchvision's AnchorGenerator)
      const double h = size * std::sqrt(ratio), w = size / std::sqrt(ratio);
      base.insert(base.end(), {float(-0.5 * w), float(-0.5 * h), float(0.5 * w), float(0.5 * h)});
    }
  const auto cell = torch::tensor(base).reshape({-1, 4}).to(options);
  // Cell (x, y) is centred at ((x + 0.5) s, (y + 0.5) s) in continuous pixel coordinates.
  const auto xs = (torch::arange(width, options) + 0.5) * double(stride);
  const auto ys = (torch::arange(height, options) + 0.5) * double(stride);
  const auto grid = torch::meshgrid({ys, xs}, "ij");
  const auto shifts = torch::stack({grid[1], grid[0], grid[1], grid[0]}, 2).reshape({-1, 1, 4});
  return (shifts + cell.unsqueeze(0)).reshape({-1, 4});
}

namespace {

// Matcher (torchvision's Matcher): per column (anchor/proposal) the best GT index, -1 below bg, -2 in between.
torch::Tensor match(const torch::Tensor& iou, double fg, double bg, bool allow_low_quality) {
  auto [vals, idx] = iou.max(0);
  auto matches = idx.clone();
  matches.masked_fill_(vals < bg, -1);
  matches.masked_fill_((vals >= bg) & (vals < fg), -2);
  if (allow_low_quality) {
    const auto best_per_gt = std::get<0>(iou.max(1));
    // A truth that overlaps nothing must not turn every zero-IoU column positive.
    const auto pairs = torch::nonzero((iou == best_per_gt.unsqueeze(1)) & (best_per_gt.unsqueeze(1) > 0));
    const auto cols = pairs.select(1, 1);
    matches.index_put_({cols}, idx.index_select(0, cols));
  }
  return matches;
}

}  // namespace

torch::Tensor assign_boxes(const torch::Tensor& gt, const torch::Tensor& ignore, const torch::Tensor& candidates,
                           double fg_iou, double bg_iou, bool allow_low_quality, double ignore_iof_threshold) {
  const auto cand = candidates.to(torch::kFloat);
  auto matches =
      torch::full({cand.size(0)}, int64_t(-1), torch::TensorOptions().dtype(torch::kLong).device(cand.device()));
  torch::Tensor ignored;
  if (ignore.defined() && ignore.numel() > 0) {
    const auto iof = box_iof(cand, ignore.to(cand.device(), torch::kFloat));  // [M, I]
    ignored = std::get<0>(iof.max(1)) > ignore_iof_threshold;
  }
  if (gt.defined() && gt.size(0) > 0) {
    auto iou = box_iou(gt.to(cand.device(), torch::kFloat), cand);
    // MaxIoUAssigner: overlaps of ignored candidates become -1, so no truth can claim them as its best.
    if (ignored.defined()) iou.masked_fill_(ignored.unsqueeze(0), -1.0);
    matches = match(iou, fg_iou, bg_iou, allow_low_quality);
  }
  if (ignored.defined()) matches.masked_fill_(ignored, -3);
  return matches;
}

namespace {

// BalancedPositiveNegativeSampler on labels (1 positive, 0 negative, -1 ignored); randomness from the global
// torch generator (its state is checkpointed by the trainer, so resumes are exact).
std::pair<torch::Tensor, torch::Tensor> sample(const torch::Tensor& labels, int batch, double positive_fraction) {
  const auto pos = torch::nonzero(labels >= 1).squeeze(1);
  const auto neg = torch::nonzero(labels == 0).squeeze(1);
  const int64_t num_pos = std::min<int64_t>(pos.numel(), static_cast<int64_t>(batch * positive_fraction));
  const int64_t num_neg = std::min<int64_t>(neg.numel(), batch - num_pos);
  const auto p = pos.index_select(
      0,
      torch::randperm(pos.numel(), torch::TensorOptions().dtype(torch::kLong)).slice(0, 0, num_pos).to(pos.device()));
  const auto n = neg.index_select(
      0,
      torch::randperm(neg.numel(), torch::TensorOptions().dtype(torch::kLong)).slice(0, 0, num_neg).to(neg.device()));
  return {p, n};
}

torch::Tensor smooth_l1_sum(const torch::Tensor& input, const torch::Tensor& target, double beta) {
  return torch::nn::functional::smooth_l1_loss(
      input, target, torch::nn::functional::SmoothL1LossFuncOptions().reduction(torch::kSum).beta(beta));
}

torch::Tensor clip_boxes(const torch::Tensor& boxes, int64_t height, int64_t width) {
  auto b = boxes.reshape({-1, 4});
  const auto x = b.index({Slice(), torch::tensor({0, 2})}).clamp(0, double(width));
  const auto y = b.index({Slice(), torch::tensor({1, 3})}).clamp(0, double(height));
  return torch::stack({x.select(1, 0), y.select(1, 0), x.select(1, 1), y.select(1, 1)}, 1).reshape(boxes.sizes());
}

torch::Tensor keep_min_size(const torch::Tensor& boxes, double min_size) {
  const auto w = boxes.select(1, 2) - boxes.select(1, 0), h = boxes.select(1, 3) - boxes.select(1, 1);
  return torch::nonzero((w >= min_size) & (h >= min_size)).squeeze(1);
}

torch::Tensor init_normal(torch::nn::Linear& m, double std) {
  torch::nn::init::normal_(m->weight, 0.0, std);
  return torch::nn::init::zeros_(m->bias);
}

// rpn.head: conv.0.0 (3x3 + ReLU), cls_logits, bbox_pred (torchvision's RPNHead names).
class RPNHeadImpl : public torch::nn::Module {
 public:
  RPNHeadImpl(int64_t channels, int64_t anchors) {
    conv_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3).padding(1));
    cls_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, anchors, 1));
    box_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, anchors * 4, 1));
    for (auto* m : {&conv_, &cls_, &box_}) {
      torch::nn::init::normal_((*m)->weight, 0.0, 0.01);
      torch::nn::init::zeros_((*m)->bias);
    }
    // torchvision: conv = Sequential(Conv2dNormActivation(conv, relu)) -> "conv.0.0.weight".
    torch::nn::Sequential inner(conv_);
    torch::nn::ModuleList outer;
    outer->push_back(inner);
    register_module("conv", outer);
    register_module("cls_logits", cls_);
    register_module("bbox_pred", box_);
  }
  // Per level: objectness [B, H*W*A], deltas [B, H*W*A, 4].
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x) {
    const auto t = torch::relu(conv_->forward(x));
    const int64_t B = x.size(0);
    const auto obj = cls_->forward(t).permute({0, 2, 3, 1}).reshape({B, -1});
    const auto del = box_->forward(t);
    const auto deltas = del.view({B, -1, 4, del.size(2), del.size(3)}).permute({0, 3, 4, 1, 2}).reshape({B, -1, 4});
    return {obj, deltas};
  }

 private:
  torch::nn::Conv2d conv_{nullptr}, cls_{nullptr}, box_{nullptr};
};
TORCH_MODULE(RPNHead);

}  // namespace

// Region proposal network: head + anchors + proposal filtering + losses.
class RPNImpl : public torch::nn::Module {
 public:
  explicit RPNImpl(const ModelConfig& c) : c_(c) {
    head = register_module("head", RPNHead(c.fpn_channels, c.anchors_per_location()));
  }

  struct Result {
    std::vector<torch::Tensor> proposals;  // per image [P, 4], detached
    std::map<std::string, torch::Tensor> losses;
  };

  Result forward(const std::vector<torch::Tensor>& features, int64_t height, int64_t width,
                 const std::vector<ImageTargets>* targets) {
    const auto strides = c_.strides();
    std::vector<torch::Tensor> obj, deltas, anchors;
    std::vector<int64_t> level_sizes;
    for (std::size_t l = 0; l < features.size(); ++l) {
      auto [o, d] = head->forward(features[l]);
      std::vector<double> sizes;
      for (double s : c_.anchor_scales) sizes.push_back(s * c_.anchor_base_factor * double(strides[l]));
      anchors.push_back(level_anchors(features[l].size(2), features[l].size(3), strides[l], sizes, c_.anchor_ratios,
                                      torch::TensorOptions().dtype(torch::kFloat).device(features[l].device())));
      obj.push_back(o.to(torch::kFloat));
      deltas.push_back(d.to(torch::kFloat));
      level_sizes.push_back(o.size(1));
    }
    const auto all_obj = torch::cat(obj, 1), all_deltas = torch::cat(deltas, 1), all_anchors = torch::cat(anchors, 0);
    const int64_t B = all_obj.size(0);
    const std::vector<double> unit{1, 1, 1, 1};
    Result result;
    {
      torch::NoGradGuard no_grad;
      const bool train = is_training();
      const int64_t pre = train ? c_.rpn_pre_nms_top_n_train : c_.rpn_pre_nms_top_n_test;
      const int64_t post = train ? c_.rpn_post_nms_top_n_train : c_.rpn_post_nms_top_n_test;
      for (int64_t b = 0; b < B; ++b) {
        std::vector<torch::Tensor> boxes, scores, levels;
        int64_t offset = 0;
        for (std::size_t l = 0; l < level_sizes.size(); ++l) {
          const auto o = all_obj[b].slice(0, offset, offset + level_sizes[l]);
          const auto k = std::min<int64_t>(pre, o.numel());
          auto [top, idx] = o.topk(k);
          idx = idx + offset;
          const auto decoded = decode_boxes(all_deltas[b].index_select(0, idx), all_anchors.index_select(0, idx), unit);
          boxes.push_back(clip_boxes(decoded, height, width));
          scores.push_back(torch::sigmoid(top));
          levels.push_back(torch::full({k}, int64_t(l), idx.options()));
          offset += level_sizes[l];
        }
        auto bx = torch::cat(boxes), sc = torch::cat(scores), lv = torch::cat(levels);
        const auto valid = keep_min_size(bx, 1e-3);
        bx = bx.index_select(0, valid), sc = sc.index_select(0, valid), lv = lv.index_select(0, valid);
        auto keep = batched_nms(bx, sc, lv, c_.rpn_nms_threshold).slice(0, 0, post);
        result.proposals.push_back(bx.index_select(0, keep));
      }
    }
    if (targets) {
      std::vector<torch::Tensor> labels_all, targets_all;
      for (int64_t b = 0; b < B; ++b) {
        const auto& gt = (*targets)[b].boxes;
        auto labels = torch::zeros({all_anchors.size(0)},
                                   torch::TensorOptions().dtype(torch::kFloat).device(all_anchors.device()));
        auto matched = torch::zeros_like(all_anchors);
        // Anchors inside ignore regions are neither positive (not even a truth's best anchor) nor negative.
        const auto m = assign_boxes(gt, (*targets)[b].ignore, all_anchors, c_.rpn_fg_iou, c_.rpn_bg_iou, true,
                                    c_.ignore_iof_threshold);
        labels = (m >= 0).to(torch::kFloat);
        labels.masked_fill_(m <= -2, -1.0);
        if (gt.size(0) > 0) matched = gt.to(torch::kFloat).index_select(0, m.clamp_min(0));
        labels_all.push_back(labels);
        targets_all.push_back(encode_boxes(all_anchors, matched, unit));
      }
      std::vector<torch::Tensor> pos_idx, neg_idx;
      for (int64_t b = 0; b < B; ++b) {
        auto [p, n] = sample(labels_all[b], c_.rpn_batch_per_image, c_.rpn_positive_fraction);
        pos_idx.push_back(p + b * all_anchors.size(0));
        neg_idx.push_back(n + b * all_anchors.size(0));
      }
      const auto pos = torch::cat(pos_idx), neg = torch::cat(neg_idx);
      const auto sampled = torch::cat({pos, neg});
      const auto flat_obj = all_obj.reshape({-1}), flat_del = all_deltas.reshape({-1, 4});
      const auto flat_labels = torch::cat(labels_all), flat_targets = torch::cat(targets_all);
      const double denom = std::max<int64_t>(sampled.numel(), 1);
      result.losses["loss_rpn_box_reg"] =
          smooth_l1_sum(flat_del.index_select(0, pos), flat_targets.index_select(0, pos), 1.0 / 9) / denom;
      result.losses["loss_objectness"] = torch::nn::functional::binary_cross_entropy_with_logits(
          flat_obj.index_select(0, sampled), flat_labels.index_select(0, sampled));
    }
    return result;
  }

  RPNHead head{nullptr};

 private:
  ModelConfig c_;
};
TORCH_MODULE(RPN);

namespace {

class TwoMLPHeadImpl : public torch::nn::Module {
 public:
  TwoMLPHeadImpl(int64_t in, int64_t rep) {
    fc6 = register_module("fc6", torch::nn::Linear(in, rep));
    fc7 = register_module("fc7", torch::nn::Linear(rep, rep));
  }
  torch::Tensor forward(const torch::Tensor& x) { return torch::relu(fc7(torch::relu(fc6(x.flatten(1))))); }
  torch::nn::Linear fc6{nullptr}, fc7{nullptr};
};
TORCH_MODULE(TwoMLPHead);

class FastRCNNPredictorImpl : public torch::nn::Module {
 public:
  FastRCNNPredictorImpl(int64_t in, int64_t classes_with_background) {
    cls_score = register_module("cls_score", torch::nn::Linear(in, classes_with_background));
    bbox_pred = register_module("bbox_pred", torch::nn::Linear(in, classes_with_background * 4));
    init_normal(cls_score, 0.01);
    init_normal(bbox_pred, 0.001);
  }
  torch::nn::Linear cls_score{nullptr}, bbox_pred{nullptr};
};
TORCH_MODULE(FastRCNNPredictor);

torch::Tensor rois_from(const std::vector<torch::Tensor>& boxes) {
  std::vector<torch::Tensor> rois;
  for (std::size_t b = 0; b < boxes.size(); ++b) {
    const auto bx = boxes[b].to(torch::kFloat);
    rois.push_back(torch::cat({torch::full({bx.size(0), 1}, float(b), bx.options()), bx}, 1));
  }
  return torch::cat(rois, 0);
}

}  // namespace

class RoIHeadsImpl : public torch::nn::Module {
 public:
  explicit RoIHeadsImpl(const ModelConfig& c) : c_(c) {
    for (double s : c.box_coder_stds) weights_.push_back(1.0 / s);
    const int64_t in = int64_t(c.fpn_channels) * c.roi_pool_size * c.roi_pool_size;
    box_head = register_module("box_head", TwoMLPHead(in, c.representation_size));
    box_predictor = register_module("box_predictor", FastRCNNPredictor(c.representation_size, c.num_classes + 1));
  }

  torch::Tensor pool(const std::vector<torch::Tensor>& features, const std::vector<torch::Tensor>& boxes) const {
    RoIAlignOptions o;
    o.pooled_height = o.pooled_width = c_.roi_pool_size;
    o.sampling_ratio = c_.roi_sampling_ratio;
    return multi_level_roi_align(features, c_.strides(), rois_from(boxes), o, c_.canonical_scale, c_.canonical_level);
  }

  std::map<std::string, torch::Tensor> losses(const std::vector<torch::Tensor>& features,
                                              const std::vector<torch::Tensor>& proposals,
                                              const std::vector<ImageTargets>& targets) {
    std::vector<torch::Tensor> sampled_boxes, sampled_labels, sampled_targets;
    for (std::size_t b = 0; b < proposals.size(); ++b) {
      const auto gt = targets[b].boxes.to(torch::kFloat);
      const auto props = torch::cat({proposals[b], gt}, 0);  // GT boxes join the proposals (torchvision)
      auto labels = torch::zeros({props.size(0)}, torch::TensorOptions().dtype(torch::kLong).device(props.device()));
      auto matched = torch::zeros_like(props);
      // RoIs inside ignore regions are not sampled.
      const auto m =
          assign_boxes(gt, targets[b].ignore, props, c_.roi_fg_iou, c_.roi_bg_iou, false, c_.ignore_iof_threshold);
      if (gt.size(0) > 0) {
        labels = targets[b].labels.to(torch::kLong).to(props.device()).index_select(0, m.clamp_min(0));
        matched = gt.index_select(0, m.clamp_min(0));
      }
      labels.masked_fill_(m == -1, 0);
      labels.masked_fill_(m <= -2, -1);
      auto [p, n] = sample(labels, c_.roi_batch_per_image, c_.roi_positive_fraction);
      const auto idx = torch::cat({p, n});
      sampled_boxes.push_back(props.index_select(0, idx));
      sampled_labels.push_back(labels.index_select(0, idx));
      sampled_targets.push_back(encode_boxes(props.index_select(0, idx), matched.index_select(0, idx), weights_));
    }
    const auto feats = box_head->forward(pool(features, sampled_boxes));
    const auto logits = box_predictor->cls_score(feats).to(torch::kFloat);
    const auto deltas = box_predictor->bbox_pred(feats).to(torch::kFloat);
    const auto labels = torch::cat(sampled_labels), tgt = torch::cat(sampled_targets);
    std::map<std::string, torch::Tensor> out;
    out["loss_classifier"] = torch::nn::functional::cross_entropy(logits, labels);
    const auto pos = torch::nonzero(labels > 0).squeeze(1);
    const auto d = deltas.reshape({deltas.size(0), -1, 4});
    const auto pos_deltas = d.index({pos, labels.index_select(0, pos)});
    out["loss_box_reg"] =
        smooth_l1_sum(pos_deltas, tgt.index_select(0, pos), 1.0 / 9) / double(std::max<int64_t>(labels.numel(), 1));
    return out;
  }

  std::vector<Detections> detect(const std::vector<torch::Tensor>& features,
                                 const std::vector<torch::Tensor>& proposals, int64_t height, int64_t width) {
    const auto feats = box_head->forward(pool(features, proposals));
    const auto logits = box_predictor->cls_score(feats).to(torch::kFloat);
    const auto deltas = box_predictor->bbox_pred(feats).to(torch::kFloat);
    const auto all_ref = torch::cat(proposals, 0);
    const auto boxes_all = clip_boxes(decode_boxes(deltas, all_ref, weights_), height, width);  // [K, (C+1)*4]
    const auto probs = torch::softmax(logits, 1);
    std::vector<Detections> out;
    int64_t offset = 0;
    const int64_t C = c_.num_classes + 1;
    for (const auto& p : proposals) {
      const int64_t n = p.size(0);
      const auto bx = boxes_all.slice(0, offset, offset + n).reshape({n, C, 4}).slice(1, 1).reshape({-1, 4});
      const auto sc = probs.slice(0, offset, offset + n).slice(1, 1).reshape({-1});
      const auto lb = torch::arange(1, C, torch::TensorOptions().dtype(torch::kLong).device(sc.device())).repeat({n});
      offset += n;
      auto keep = torch::nonzero(sc > c_.score_threshold).squeeze(1);
      auto b = bx.index_select(0, keep), s = sc.index_select(0, keep), l = lb.index_select(0, keep);
      keep = keep_min_size(b, 1e-2);
      b = b.index_select(0, keep), s = s.index_select(0, keep), l = l.index_select(0, keep);
      keep = batched_nms(b, s, l, c_.nms_threshold).slice(0, 0, c_.detections_per_image);
      Detections d;
      d.boxes = b.index_select(0, keep);
      d.scores = s.index_select(0, keep);
      d.labels = l.index_select(0, keep);
      out.push_back(d);
    }
    return out;
  }

  TwoMLPHead box_head{nullptr};
  FastRCNNPredictor box_predictor{nullptr};

 private:
  ModelConfig c_;
  std::vector<double> weights_;
};

FasterRCNNImpl::FasterRCNNImpl(const ModelConfig& config) : config_(config) {
  config_.validate();
  backbone = register_module("backbone", Backbone(config_));
  rpn = register_module("rpn", std::make_shared<RPNImpl>(config_));
  roi_heads = register_module("roi_heads", std::make_shared<RoIHeadsImpl>(config_));
}

torch::Tensor FasterRCNNImpl::prepare(const torch::Tensor& images) const {
  XL_CHECK(images.defined() && images.dim() == 4, "detect2d: images must be [B, C, H, W], got ",
           images.defined() ? images.sizes() : torch::IntArrayRef{});
  XL_CHECK(images.size(1) == 1 || images.size(1) == config_.in_channels, "detect2d: images have ", images.size(1),
           " channels; the model takes 1 or ", config_.in_channels);
  const int64_t coarsest = config_.strides().back();
  XL_CHECK(images.size(2) >= coarsest && images.size(3) >= coarsest, "detect2d: images of ", images.size(2), " x ",
           images.size(3), " are smaller than the coarsest stride ", coarsest);
  auto x = (images.to(torch::kFloat) - config_.image_mean) / config_.image_std;
  if (x.size(1) != config_.in_channels) x = x.expand({-1, config_.in_channels, -1, -1});
  return x;
}

std::vector<torch::Tensor> FasterRCNNImpl::features(const torch::Tensor& images) {
  return backbone->forward(prepare(images));
}

void FasterRCNNImpl::check_targets(const torch::Tensor& images, const std::vector<ImageTargets>& targets) const {
  XL_CHECK(static_cast<int64_t>(targets.size()) == images.size(0), "detect2d: ", targets.size(), " target sets for ",
           images.size(0), " images");
  for (std::size_t b = 0; b < targets.size(); ++b) {
    const auto& t = targets[b];
    XL_CHECK(t.boxes.defined() && t.boxes.dim() == 2 && t.boxes.size(1) == 4, "detect2d: targets[", b,
             "].boxes must be [G, 4]");
    XL_CHECK(t.labels.defined() && t.labels.dim() == 1 && t.labels.size(0) == t.boxes.size(0), "detect2d: targets[", b,
             "].labels must be [", t.boxes.size(0), "]");
    XL_CHECK(!t.ignore.defined() || (t.ignore.dim() == 2 && t.ignore.size(1) == 4), "detect2d: targets[", b,
             "].ignore must be [I, 4]");
    if (t.labels.numel() > 0)
      XL_CHECK(t.labels.min().item<int64_t>() >= 1 && t.labels.max().item<int64_t>() <= config_.num_classes,
               "detect2d: targets[", b, "].labels must lie in 1..", config_.num_classes);
  }
}

// The one forward pass (torchvision's GeneralizedRCNN): backbone + FPN, RPN, RoI heads. With targets it computes
// the losses (inputs validated first); with `detections` the boxes of the current weights (in training without
// gradient, on detached features), with `pool` also their RoI features.
FasterRCNNImpl::TrainingOutput FasterRCNNImpl::run(const torch::Tensor& images,
                                                   const std::vector<ImageTargets>* targets, bool detections,
                                                   bool pool) {
  if (targets) check_targets(images, *targets);
  TrainingOutput out;
  out.output.features = features(images);
  out.output.strides = config_.strides();
  auto& rpn_m = static_cast<RPNImpl&>(*rpn);
  auto& roi_m = static_cast<RoIHeadsImpl&>(*roi_heads);
  auto r = rpn_m.forward(out.output.features, images.size(2), images.size(3), targets);
  if (targets) {
    out.losses = r.losses;
    for (auto& [k, v] : roi_m.losses(out.output.features, r.proposals, *targets)) out.losses[k] = v;
    torch::Tensor total;
    for (auto& [k, v] : out.losses) total = total.defined() ? total + v : v;
    out.losses["loss"] = total;
  }
  if (!detections) return out;
  if (targets) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> detached;
    for (const auto& f : out.output.features) detached.push_back(f.detach());
    out.output.detections = roi_m.detect(detached, r.proposals, images.size(2), images.size(3));
  } else {
    out.output.detections = roi_m.detect(out.output.features, r.proposals, images.size(2), images.size(3));
  }
  if (!pool) return out;
  std::vector<torch::Tensor> boxes;
  for (const auto& d : out.output.detections) boxes.push_back(d.boxes);
  const auto pooled = roi_m.pool(out.output.features, boxes);
  int64_t offset = 0;
  for (auto& d : out.output.detections) {
    d.roi_features = pooled.slice(0, offset, offset + d.boxes.size(0));
    offset += d.boxes.size(0);
  }
  return out;
}

std::map<std::string, torch::Tensor> FasterRCNNImpl::losses(const torch::Tensor& images,
                                                            const std::vector<ImageTargets>& targets) {
  return run(images, &targets, false, false).losses;
}

DetectorOutput FasterRCNNImpl::detect(const torch::Tensor& images) { return run(images, nullptr, true, true).output; }

FasterRCNNImpl::TrainingOutput FasterRCNNImpl::losses_and_detections(const torch::Tensor& images,
                                                                     const std::vector<ImageTargets>& targets) {
  return run(images, &targets, true, false);
}

torch::Tensor FasterRCNNImpl::roi_features(const std::vector<torch::Tensor>& features,
                                           const std::vector<torch::Tensor>& boxes) {
  XL_CHECK(features.size() == config_.strides().size(), "detect2d: ", features.size(), " feature levels, expected ",
           config_.strides().size());
  return static_cast<RoIHeadsImpl&>(*roi_heads).pool(features, boxes);
}

}  // namespace xraylift::detect2d
