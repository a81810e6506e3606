// MV2D's training targets and decoding: Hungarian matching per case, focal + L1 losses on every layer
// (docs/detect3d.md "Losses"), and the last layer's boxes.
#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/detect3d/duplicates.hpp"
#include "xraylift/detect3d/hungarian.hpp"
#include "xraylift/detect3d/mv2d.hpp"

namespace xraylift::detect3d {

namespace {

torch::Tensor range_tensor(const Eigen::Vector3d& v, const torch::TensorOptions& o) {
  return torch::tensor({v.x(), v.y(), v.z()}, o);
}

// The L1 code of a box: centre / center_unit_mm and log size (mm): 1 mm of centre ~ a 10 % size error.
torch::Tensor box_code(const torch::Tensor& centre_mm, const torch::Tensor& log_size, double unit) {
  return torch::cat({centre_mm / unit, log_size}, 1);
}

torch::Tensor sigmoid_focal_loss(const torch::Tensor& logits, const torch::Tensor& targets, double alpha,
                                 double gamma) {
  const auto p = torch::sigmoid(logits);
  const auto ce = torch::binary_cross_entropy_with_logits(logits, targets, {}, {}, at::Reduction::None);
  const auto p_t = p * targets + (1 - p) * (1 - targets);
  const auto a_t = alpha * targets + (1 - alpha) * (1 - targets);
  return a_t * ce * torch::pow(1 - p_t, gamma);
}

// One-to-many targets: each query is positive for the truth whose projection in the query's view overlaps its RoI
// most, when that IoU reaches `threshold`.
std::vector<std::pair<int, int>> iou2d_matches(const Mv2dHeadOutput& out, const torch::Tensor& truth,
                                               double threshold) {
  const auto t = truth.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto a = t.accessor<double, 2>();
  const auto views = out.query_view.to(torch::kCPU).contiguous();
  const auto va = views.accessor<int64_t, 1>();
  std::vector<std::vector<core::Box2D>> projected(out.cameras.size());
  for (std::size_t v = 0; v < out.cameras.size(); ++v)
    for (int64_t g = 0; g < t.size(0); ++g) {
      const core::Box3D box{Eigen::Vector3d(a[g][0], a[g][1], a[g][2]), Eigen::Vector3d(a[g][3], a[g][4], a[g][5])};
      const auto p = core::project_box(out.cameras[v], box);
      projected[v].push_back(p.visible ? p.box : core::Box2D{});
    }
  std::vector<std::pair<int, int>> matches;
  for (std::size_t q = 0; q < out.rois.size(); ++q) {
    double best = 0;
    int best_g = -1;
    const auto& proj = projected[va[q]];
    for (std::size_t g = 0; g < proj.size(); ++g) {
      const double iou = proj[g].empty() ? 0.0 : core::iou(out.rois[q], proj[g]);
      if (iou > best) best = iou, best_g = int(g);
    }
    if (best_g >= 0 && best >= threshold) matches.emplace_back(int(q), best_g);
  }
  return matches;
}

}  // namespace

std::map<std::string, torch::Tensor> Mv2dHeadImpl::losses(const Mv2dHeadOutput& out, const torch::Tensor& truth,
                                                          const torch::Tensor& ignore) const {
  const auto& c = config_;
  XL_CHECK(truth.defined() && truth.dim() == 2 && truth.size(1) == 6, "mv2d losses: truth must be [G, 6], got ",
           truth.defined() ? truth.sizes() : torch::IntArrayRef{});
  XL_CHECK(!ignore.defined() || ignore.numel() == truth.size(0), "mv2d losses: ignore must have ", truth.size(0),
           " entries");
  const auto opts = out.reference.options();
  const auto lo = range_tensor(c.range.min_mm, opts), hi = range_tensor(c.range.max_mm, opts);
  const auto t = truth.to(opts);
  torch::Tensor keep = ignore.defined() && ignore.numel() > 0
                           ? ~ignore.to(torch::kBool).to(t.device())
                           : torch::ones({t.size(0)}, t.options().dtype(torch::kBool));
  const auto pos_truth = t.index({keep});
  const auto ign_truth = t.index({~keep});
  const int64_t G = pos_truth.size(0);
  const int64_t Q = out.reference.size(0);
  const auto gt_code = box_code(pos_truth.slice(1, 0, 3), torch::log(pos_truth.slice(1, 3, 6)), c.center_unit_mm);
  // iou2d targets depend on the RoIs and the truth only, so every layer shares them. Positives per layer: G
  // one-to-one; with iou2d every matched query (about G x views).
  const bool one_to_many = c.match_mode == "iou2d" && G > 0;
  const auto shared_matches =
      one_to_many ? iou2d_matches(out, pos_truth, c.match_iou2d) : std::vector<std::pair<int, int>>{};
  const double num_pos = std::max<double>(1.0, one_to_many ? double(shared_matches.size()) : double(G));
  auto cls_total = torch::zeros({}, opts), reg_total = torch::zeros({}, opts);
  for (std::size_t l = 0; l < out.logits.size(); ++l) {
    if (Q == 0) break;
    const auto& logits = out.logits[l];
    const auto centre_mm = lo + out.centers[l] * (hi - lo);
    const auto code = box_code(centre_mm, out.log_sizes[l], c.center_unit_mm);
    auto targets = torch::zeros({Q}, opts);
    auto weights = torch::ones({Q}, opts);
    std::vector<std::pair<int, int>> matches;
    if (one_to_many) {
      matches = shared_matches;
    } else if (G > 0) {
      torch::NoGradGuard no_grad;
      const auto p = torch::sigmoid(logits.detach());
      const double eps = 1e-8;
      const auto neg = (1 - c.focal_alpha) * torch::pow(p, c.focal_gamma) * -torch::log(1 - p + eps);
      const auto pos = c.focal_alpha * torch::pow(1 - p, c.focal_gamma) * -torch::log(p + eps);
      const auto cost = c.match_cls_weight * (pos - neg).unsqueeze(1) +
                        c.match_reg_weight * torch::cdist(code.detach(), gt_code, 1.0);
      const auto cpu = cost.to(torch::kCPU, torch::kDouble).contiguous();
      Eigen::MatrixXd m(Q, G);
      const auto a = cpu.accessor<double, 2>();
      for (int64_t i = 0; i < Q; ++i)
        for (int64_t j = 0; j < G; ++j) m(i, j) = a[i][j];
      matches = hungarian_match(m);
    }
    std::vector<int64_t> qi, gi;
    for (const auto& [q, g] : matches) qi.push_back(q), gi.push_back(g);
    const auto qt = torch::tensor(qi, torch::TensorOptions().dtype(torch::kLong)).to(opts.device());
    const auto gtt = torch::tensor(gi, torch::TensorOptions().dtype(torch::kLong)).to(opts.device());
    if (!qi.empty()) targets.index_fill_(0, qt, 1.0);
    if (ign_truth.size(0) > 0) {
      // Unmatched queries centred inside an ignore region are neither positives nor negatives.
      torch::NoGradGuard no_grad;
      const auto d = torch::cdist(centre_mm.detach(), ign_truth.slice(1, 0, 3));
      const auto radius = ign_truth.slice(1, 3, 6).mean(1) * 0.5;
      const auto inside = (d <= radius.unsqueeze(0)).any(1) & (targets < 0.5);
      weights.masked_fill_(inside, 0.0);
    }
    cls_total = cls_total + c.cls_weight *
                                (sigmoid_focal_loss(logits, targets, c.focal_alpha, c.focal_gamma) * weights).sum() /
                                num_pos;
    if (!qi.empty())
      reg_total =
          reg_total + c.reg_weight * (code.index_select(0, qt) - gt_code.index_select(0, gtt)).abs().sum() / num_pos;
  }
  return {{"loss_3d_cls", cls_total}, {"loss_3d_reg", reg_total}};
}

std::vector<core::BoxRecord> Mv2dHeadImpl::decode(const Mv2dHeadOutput& out) const {
  const auto& c = config_;
  std::vector<core::BoxRecord> boxes;
  if (out.logits.empty() || out.logits.back().numel() == 0) return boxes;
  auto probability = torch::sigmoid(out.logits.back()).detach().to(torch::kCPU, torch::kDouble);
  if (out.prior_score.defined() && c.fusion_score_weight > 0) {
    // Fused queries (prior_score >= 0): p_head^(1 - w) s_fusion^w; 2D queries (prior -1) keep p_head.
    const auto prior = out.prior_score.detach().to(torch::kCPU, torch::kDouble);
    const auto mixed =
        probability.clamp_min(1e-12).pow(1 - c.fusion_score_weight) * prior.clamp_min(1e-12).pow(c.fusion_score_weight);
    probability = torch::where(prior >= 0, mixed, probability);
  }
  const auto scores = probability.contiguous();
  const auto centres = out.centers.back().detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto sizes = out.log_sizes.back().detach().exp().to(torch::kCPU, torch::kDouble).contiguous();
  const auto s = scores.accessor<double, 1>();
  const auto ce = centres.accessor<double, 2>();
  const auto sz = sizes.accessor<double, 2>();
  const DuplicateRule duplicate_rule{DuplicateRule::Criterion::kCenterDistance, c.nms_3d_distance_mm};
  std::vector<core::Box3D> kept;
  std::vector<int64_t> order(scores.size(0));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
  for (int64_t q : order) {
    if (static_cast<int>(boxes.size()) >= c.top_k) break;
    if (s[q] < c.score_threshold) break;
    core::BoxRecord r;
    r.source = core::BoxSource::kPrediction;
    r.score = std::clamp(s[q], 0.0, 1.0);
    r.box.center = c.range.denormalize(Eigen::Vector3d(ce[q][0], ce[q][1], ce[q][2]));
    r.box.size = Eigen::Vector3d(sz[q][0], sz[q][1], sz[q][2]).cwiseMax(0.1).cwiseMin(1000.0);
    if (duplicates_any(kept, r.box, duplicate_rule)) continue;
    kept.push_back(r.box);
    r.id = core::cat("p", boxes.size());
    boxes.push_back(r);
  }
  return boxes;
}

}  // namespace xraylift::detect3d
