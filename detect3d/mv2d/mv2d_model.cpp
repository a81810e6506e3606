// The MV2D model: detect2d's Faster R-CNN (parameter names unchanged) + the 3D head; proposals (docs/detect3d.md).
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/detect2d/ops.hpp"
#include "xraylift/detect2d/weights.hpp"
#include "xraylift/detect3d/mv2d.hpp"

namespace xraylift::detect3d {

torch::Tensor select_proposals(const detect2d::Detections& det, const torch::Tensor& truth, const Mv2dConfig& c,
                               bool training) {
  auto boxes = det.boxes.defined() ? det.boxes.detach().to(torch::kFloat) : torch::zeros({0, 4});
  auto scores = det.scores.defined() ? det.scores.detach().to(torch::kFloat) : torch::zeros({0});
  if (boxes.size(0) > 0) {
    const auto w = boxes.select(1, 2) - boxes.select(1, 0), h = boxes.select(1, 3) - boxes.select(1, 1);
    const auto ok = torch::nonzero((scores >= c.proposal_score_threshold) & (w >= c.min_proposal_size_px) &
                                   (h >= c.min_proposal_size_px))
                        .squeeze(1);
    boxes = boxes.index_select(0, ok), scores = scores.index_select(0, ok);
    const auto keep = detect2d::nms(boxes, scores, c.proposal_nms_threshold).slice(0, 0, c.proposals_per_view);
    boxes = boxes.index_select(0, keep);
  }
  if (training && truth.defined() && truth.size(0) > 0) {
    const auto t = truth.detach().to(boxes.device(), torch::kFloat);
    torch::Tensor add = t;
    if (boxes.size(0) > 0) {
      const auto best = std::get<0>(detect2d::box_iou(t, boxes).max(1));
      add = t.index_select(0, torch::nonzero(best < c.gt_append_iou).squeeze(1));
    }
    boxes = torch::cat({boxes, add}, 0);
  }
  return boxes;
}

std::vector<torch::Tensor> add_candidate_rois(const std::vector<torch::Tensor>& rois,
                                              const std::vector<core::BoxRecord>& candidates,
                                              const std::vector<core::Camera>& cameras, double min_size_px,
                                              CandidateQueries& queries) {
  XL_CHECK(rois.size() == cameras.size(), "mv2d: ", rois.size(), " RoI lists for ", cameras.size(), " views");
  queries.candidates = candidates;
  queries.candidate.clear();
  std::vector<torch::Tensor> out;
  for (std::size_t v = 0; v < cameras.size(); ++v) {
    const auto given = rois[v].detach().to(torch::kCPU, torch::kFloat).reshape({-1, 4});
    queries.candidate.insert(queries.candidate.end(), given.size(0), -1);
    std::vector<float> flat;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      const auto p = core::project_box(cameras[v], candidates[k].box);
      // A view that does not see the candidate (behind the source, off the image, or a sliver at its edge) gives
      // it no query, as the 2D source drops boxes below the minimum size.
      if (!p.visible || p.box.width() < min_size_px || p.box.height() < min_size_px) continue;
      flat.insert(flat.end(), {float(p.box.x0), float(p.box.y0), float(p.box.x1), float(p.box.y1)});
      queries.candidate.push_back(static_cast<int>(k));
    }
    const auto added = torch::from_blob(flat.data(), {int64_t(flat.size() / 4), 4}, torch::kFloat).clone();
    out.push_back(torch::cat({given, added}, 0));
  }
  return out;
}

std::vector<core::BoxRecord> select_candidates(const std::vector<core::BoxRecord>& found, const torch::Tensor& truth,
                                               const torch::Tensor& ignore, const Mv2dConfig& c, bool training) {
  std::vector<core::BoxRecord> out;
  for (const auto& b : found) {
    if (static_cast<int>(out.size()) >= c.fusion_top_k) break;
    if (b.score >= c.fusion_score_threshold) out.push_back(b);
  }
  if (!training || !truth.defined() || truth.numel() == 0) return out;
  const auto t = truth.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto ig = ignore.defined() ? ignore.detach().to(torch::kCPU, torch::kBool).contiguous()
                                   : torch::zeros({t.size(0)}, torch::kBool);
  const auto a = t.accessor<double, 2>();
  const auto ia = ig.accessor<bool, 1>();
  const std::size_t kept = out.size();
  for (int64_t g = 0; g < t.size(0); ++g) {
    if (ia[g]) continue;
    const Eigen::Vector3d centre(a[g][0], a[g][1], a[g][2]);
    bool near = false;
    for (std::size_t k = 0; k < kept && !near; ++k) near = (out[k].box.center - centre).norm() <= c.fusion_gt_append_mm;
    if (near) continue;
    core::BoxRecord r;
    r.source = core::BoxSource::kPrediction;
    r.score = 1.0;
    r.box.center = centre;
    r.box.size = Eigen::Vector3d(a[g][3], a[g][4], a[g][5]);
    r.id = core::cat("truth", g);
    out.push_back(r);
  }
  return out;
}

namespace {

std::int64_t closest_level(const std::vector<std::int64_t>& strides, int wanted) {
  std::int64_t best = 0;
  for (std::size_t i = 0; i < strides.size(); ++i)
    if (std::abs(std::log2(double(strides[i]) / wanted)) < std::abs(std::log2(double(strides[best]) / wanted)))
      best = static_cast<std::int64_t>(i);
  return best;
}

}  // namespace

Mv2dModelImpl::Mv2dModelImpl(const detect2d::ModelConfig& model, const Mv2dConfig& head) {
  detector = detect2d::FasterRCNN(model);
  // Under their own names, so detect2d weights load unchanged; every child, so none is left out of training or
  // the weights when FasterRCNN gains one.
  for (const auto& child : detector->named_children()) register_module(child.key(), child.value());
  head3d = register_module("head3d", Mv2dHead(head, model.fpn_channels));
  level_ = closest_level(model.strides(), head.feature_stride);
}

Mv2dModelImpl::Prediction Mv2dModelImpl::predict(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                                                 const std::vector<torch::Tensor>* given_rois,
                                                 const std::vector<core::BoxRecord>* candidates) {
  XL_CHECK(images.dim() == 4 && images.size(0) == static_cast<int64_t>(cameras.size()), "mv2d: images ", images.sizes(),
           " for ", cameras.size(), " cameras (expected [V, 1, H, W])");
  for (std::size_t v = 0; v < cameras.size(); ++v)
    XL_CHECK(cameras[v].width() == images.size(3) && cameras[v].height() == images.size(2), "mv2d: view ", v, " ('",
             cameras[v].name(), "') camera is ", cameras[v].width(), " x ", cameras[v].height(),
             " px but its image is ", images.size(3), " x ", images.size(2));
  torch::NoGradGuard no_grad;
  Prediction p;
  auto out = detector->detect(images);
  const auto& c = head3d->config();
  std::vector<torch::Tensor> rois;
  for (const auto& d : out.detections)
    rois.push_back(c.uses_source("detect2d") ? select_proposals(d, {}, c, false) : torch::zeros({0, 4}));
  if (given_rois) {
    XL_CHECK(given_rois->size() == cameras.size(), "mv2d: ", given_rois->size(), " RoI lists for ", cameras.size(),
             " views");
    rois = *given_rois;
  }
  CandidateQueries queries;
  if (c.uses_source("fusion")) {
    XL_CHECK(candidates != nullptr, "mv2d: proposals.sources has fusion but no fused candidates were given");
    rois = add_candidate_rois(rois, select_candidates(*candidates, {}, {}, c, false), cameras, c.min_proposal_size_px,
                              queries);
  }
  const auto h = head3d->forward(out.features[level_], out.strides[level_], cameras, rois, &queries);
  p.boxes = head3d->decode(h);
  for (auto& d : out.detections) {
    detect2d::Detections cpu;
    cpu.boxes = d.boxes.to(torch::kCPU), cpu.scores = d.scores.to(torch::kCPU), cpu.labels = d.labels.to(torch::kCPU);
    p.detections.push_back(cpu);
  }
  return p;
}

std::map<std::string, torch::Tensor> Mv2dModelImpl::losses(const torch::Tensor& images,
                                                           const std::vector<core::Camera>& cameras,
                                                           const std::vector<detect2d::ImageTargets>& targets_2d,
                                                           const torch::Tensor& truth_3d,
                                                           const torch::Tensor& ignore_3d,
                                                           const std::vector<core::BoxRecord>* candidates) {
  const auto& c = head3d->config();
  auto t = c.freeze_detector ? [&] {
    torch::NoGradGuard no_grad;
    return detector->losses_and_detections(images, targets_2d);
  }()
                              : detector->losses_and_detections(images, targets_2d);
  std::map<std::string, torch::Tensor> out;
  torch::Tensor total;
  for (auto& [k, v] : t.losses) {
    if (k == "loss") continue;
    out[k] = v;
    if (c.freeze_detector) continue;  // logged, not optimized
    total = total.defined() ? total + c.loss_weight_2d * v : c.loss_weight_2d * v;
  }
  std::vector<torch::Tensor> rois;
  for (std::size_t v = 0; v < t.output.detections.size(); ++v)
    rois.push_back(c.uses_source("detect2d") ? select_proposals(t.output.detections[v], targets_2d[v].boxes, c, true)
                                             : torch::zeros({0, 4}));
  CandidateQueries queries;
  if (c.uses_source("fusion")) {
    XL_CHECK(candidates != nullptr, "mv2d: proposals.sources has fusion but no fused candidates were given");
    rois = add_candidate_rois(rois, select_candidates(*candidates, truth_3d, ignore_3d, c, true), cameras,
                              c.min_proposal_size_px, queries);
  }
  const auto h = head3d->forward(t.output.features[level_], t.output.strides[level_], cameras, rois, &queries);
  for (auto& [k, v] : head3d->losses(h, truth_3d, ignore_3d)) {
    out[k] = v;
    total = total.defined() ? total + c.loss_weight_3d * v : c.loss_weight_3d * v;
  }
  out["loss"] = total;
  return out;
}

}  // namespace xraylift::detect3d
