// The MV2D model: detect2d's Faster R-CNN (parameter names unchanged) + the 3D head; proposals (docs/detect3d.md).
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"
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
                                                 const std::vector<torch::Tensor>* given_rois) {
  XL_CHECK(images.dim() == 4 && images.size(0) == static_cast<int64_t>(cameras.size()), "mv2d: images ", images.sizes(),
           " for ", cameras.size(), " cameras (expected [V, 1, H, W])");
  for (std::size_t v = 0; v < cameras.size(); ++v)
    XL_CHECK(cameras[v].width() == images.size(3) && cameras[v].height() == images.size(2), "mv2d: view ", v, " ('",
             cameras[v].name(), "') camera is ", cameras[v].width(), " x ", cameras[v].height(),
             " px but its image is ", images.size(3), " x ", images.size(2));
  torch::NoGradGuard no_grad;
  Prediction p;
  auto out = detector->detect(images);
  std::vector<torch::Tensor> rois;
  for (const auto& d : out.detections) rois.push_back(select_proposals(d, {}, head3d->config(), false));
  if (given_rois) {
    XL_CHECK(given_rois->size() == cameras.size(), "mv2d: ", given_rois->size(), " RoI lists for ", cameras.size(),
             " views");
    rois = *given_rois;
  }
  const auto h = head3d->forward(out.features[level_], out.strides[level_], cameras, rois);
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
                                                           const torch::Tensor& ignore_3d) {
  const auto& c = head3d->config();
  auto t = detector->losses_and_detections(images, targets_2d);
  std::map<std::string, torch::Tensor> out;
  torch::Tensor total;
  for (auto& [k, v] : t.losses) {
    if (k == "loss") continue;
    out[k] = v;
    total = total.defined() ? total + c.loss_weight_2d * v : c.loss_weight_2d * v;
  }
  std::vector<torch::Tensor> rois;
  for (std::size_t v = 0; v < t.output.detections.size(); ++v)
    rois.push_back(select_proposals(t.output.detections[v], targets_2d[v].boxes, c, true));
  const auto h = head3d->forward(t.output.features[level_], t.output.strides[level_], cameras, rois);
  for (auto& [k, v] : head3d->losses(h, truth_3d, ignore_3d)) {
    out[k] = v;
    total = total.defined() ? total + c.loss_weight_3d * v : c.loss_weight_3d * v;
  }
  out["loss"] = total;
  return out;
}

}  // namespace xraylift::detect3d
