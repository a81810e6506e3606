#pragma once
// The MV2D-S 3D head (docs/detect3d.md), in libtorch, on top of detect2d's Faster R-CNN:
//   proposals (2D detections per view) -> one query per RoI: query generator (RoI feature + RoI-rebased
//   intrinsics -> (u, v, depth) -> 3D reference point through the view's camera) -> sine query PE;
//   keys: the query's own RoI features and the best-overlapping RoI of every other view, PETR position encoding;
//   6 post-norm decoder layers; per-layer classification and regression (centre offset in inverse-sigmoid space of
//   the normalized reference, log size in mm); Hungarian matching, focal + L1 losses on every layer.
// One case (all its views) per call. Coordinates: world LPS mm, core::Camera, core::Box2D pixels.
#include <torch/torch.h>

#include <algorithm>
#include <any>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/camera.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/detect3d/mv2d_config.hpp"

namespace xraylift::detect3d {

// The 2D detections of one view reduced to MV2D proposals: score >= threshold, class-agnostic NMS, at most
// per_view, w and h >= min size; during training the ground-truth boxes whose best IoU with the kept boxes is below
// gt_append_iou are appended (truth may be undefined or empty). Returns [R, 4] float boxes (no gradient).
torch::Tensor select_proposals(const detect2d::Detections& detections, const torch::Tensor& truth_boxes,
                               const Mv2dConfig& config, bool training);

// Queries of 3D candidates (proposal source "fusion", docs/detect3d.md "Proposal sources"). A candidate is one box
// in world mm; it becomes one RoI in every view that sees it (core::project_box, clipped to the image, w and h >=
// the minimum proposal size), so one query per view as MV2D has one per 2D detection: the head, its matching and its
// 3D NMS stay MV2D's. Each such query's reference point starts at the candidate's centre (not at a depth prior on
// the RoI's ray), and its keys are the candidate's own RoIs in the other views (the correspondence is known).
struct CandidateQueries {
  std::vector<int> candidate;               // per RoI in view-major order: the candidate index, -1 for a 2D proposal
  std::vector<core::BoxRecord> candidates;  // world mm; score = the source's (fusion heatmap peak)
  bool empty() const {
    return std::none_of(candidate.begin(), candidate.end(), [](int c) { return c >= 0; });
  }
};

// Appends to the per-view RoIs (each [R_v, 4]) the projections of the candidates into every view. Returns the
// merged RoIs; `queries` receives the candidate of every RoI (the given RoIs: -1).
std::vector<torch::Tensor> add_candidate_rois(const std::vector<torch::Tensor>& rois,
                                              const std::vector<core::BoxRecord>& candidates,
                                              const std::vector<core::Camera>& cameras, double min_size_px,
                                              CandidateQueries& queries);

// The fused candidates a case's queries start from: `found` (best first) with score >= the config's
// fusion_score_threshold, at most fusion_top_k; in training, plus the counted truths ([G, 6] centre + size mm,
// ignore [G]; may be undefined) farther than fusion_gt_append_mm from every kept candidate (score 1).
std::vector<core::BoxRecord> select_candidates(const std::vector<core::BoxRecord>& found, const torch::Tensor& truth,
                                               const torch::Tensor& ignore, const Mv2dConfig& config, bool training);

struct Mv2dHeadOutput {
  std::vector<torch::Tensor> logits;          // per layer [Q]
  std::vector<torch::Tensor> centers;         // per layer [Q, 3], normalized by the scene range
  std::vector<torch::Tensor> log_sizes;       // per layer [Q, 3], log of mm
  torch::Tensor reference;                    // [Q, 3] normalized reference points
  torch::Tensor query_view;                   // [Q] int64 view of each query
  std::vector<std::vector<int>> correlation;  // per query, per view: the key RoI (global index) or -1
  std::vector<core::Box2D> rois;              // per query, its view's RoI
  std::vector<core::Camera> cameras;          // per view
  torch::Tensor prior_score;                  // [Q] the candidate's score for fused queries, undefined without any
};

class Mv2dHeadImpl : public torch::nn::Module {
 public:
  Mv2dHeadImpl(const Mv2dConfig& config, int in_channels);

  // features: the FPN level pooled (config.feature_stride) [V, C, H / s, W / s]; rois[v]: [R_v, 4] float.
  // `candidates` (optional) names the RoIs that are projections of 3D candidates (add_candidate_rois); without it,
  // or with no candidate RoI, the forward pass is the official MV2D one.
  Mv2dHeadOutput forward(const torch::Tensor& features, std::int64_t stride, const std::vector<core::Camera>& cameras,
                         const std::vector<torch::Tensor>& rois, const CandidateQueries* candidates = nullptr);

  // Predictions of the last layer as xraylift.boxes3d records (top_k, score threshold, optional 3D NMS).
  std::vector<core::BoxRecord> decode(const Mv2dHeadOutput& out) const;

  // Losses of every layer against truth boxes [G, 6] (centre mm, size mm; float64 or float32); ignore [G] bool
  // (ignore regions: unmatched queries centred inside one get no classification loss). Keys: loss_3d_cls, loss_3d_reg.
  // Targets by config.match_mode: "hungarian" (one-to-one per case, MV2D) or "iou2d" (every query whose RoI has
  // IoU >= match_iou2d with a truth's projection in its view regresses that truth: one positive per view).
  std::map<std::string, torch::Tensor> losses(const Mv2dHeadOutput& out, const torch::Tensor& truth,
                                              const torch::Tensor& ignore) const;

  const Mv2dConfig& config() const { return config_; }

  torch::nn::Conv2d input_proj{nullptr}, qg_conv{nullptr};
  torch::nn::Linear qg_fc{nullptr};
  torch::nn::Sequential qg_mlp{nullptr};
  torch::nn::Linear qg_center{nullptr};
  torch::nn::Sequential query_pe{nullptr}, key_pe{nullptr};
  torch::nn::Linear key_pe_gate{nullptr};
  torch::nn::ModuleList decoder{nullptr};
  torch::nn::Sequential cls_branch{nullptr}, reg_branch{nullptr};

 private:
  Mv2dConfig config_;
};
TORCH_MODULE(Mv2dHead);

// The sine encoding of normalized points [N, 3] -> [N, 3 * freqs] in the order (y, x, z) (MV2D/PETR's pos2posemb3d).
torch::Tensor sine_position_encoding(const torch::Tensor& points, int freqs, double temperature);
torch::Tensor inverse_sigmoid(const torch::Tensor& x, double eps = 1e-5);

// Everything an MV2D model is: the 2D detector and the 3D head ("head3d."). The detector's children are registered
// under their own names (every child FasterRCNN has, so detect2d weights and their parameter groups load and train
// unchanged; tests/detect3d checks that the model's tensors are exactly the detector's plus the head's).
class Mv2dModelImpl : public torch::nn::Module {
 public:
  Mv2dModelImpl(const detect2d::ModelConfig& model, const Mv2dConfig& head);

  struct Prediction {
    std::vector<core::BoxRecord> boxes;            // world mm
    std::vector<detect2d::Detections> detections;  // 2D, per view (CPU)
  };
  // Inference on one case: images [V, 1, H, W] in [0, 1] (eval mode; no gradient). `rois` (per view [R, 4]) replace
  // the detector's proposals when given (the oracle-2D diagnostic: projected truth as RoIs). The config's
  // proposal sources decide the queries: the detector's proposals ("detect2d") and/or `candidates` ("fusion", the
  // fused candidates of the case, best first, before select_candidates).
  Prediction predict(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                     const std::vector<torch::Tensor>* rois = nullptr,
                     const std::vector<core::BoxRecord>* candidates = nullptr);
  // Training losses on one case (2D losses weighted by loss_weight_2d, 3D by loss_weight_3d; "loss" is the total).
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                                              const std::vector<detect2d::ImageTargets>& targets_2d,
                                              const torch::Tensor& truth_3d, const torch::Tensor& ignore_3d,
                                              const std::vector<core::BoxRecord>* candidates = nullptr);

  detect2d::FasterRCNN detector{nullptr};
  Mv2dHead head3d{nullptr};

  std::int64_t feature_level() const { return level_; }

 private:
  std::int64_t level_ = 0;
};
TORCH_MODULE(Mv2dModel);

// The head options of a parsed mv2d or mv2d_fusion section (Detect3DJob::method_options; std::bad_any_cast for
// another method's).
const Mv2dConfig& mv2d_head_options(const std::any& options);

}  // namespace xraylift::detect3d
