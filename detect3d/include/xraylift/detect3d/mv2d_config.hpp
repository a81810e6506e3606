#pragma once
// Every option of the MV2D 3D head (docs/detect3d.md), with the official MV2D-S values as defaults where they
// exist; sizes in pixels and depths in millimetres. Torch-free so configs are checked without libtorch.
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/detect3d/mv2d_geometry.hpp"
#include "xraylift/detect3d/scene_range.hpp"

namespace xraylift::detect3d {

struct Mv2dConfig {
  // Where the queries come from (`proposals.sources`, docs/detect3d.md "Proposal sources"): "detect2d" (official
  // MV2D: one query per 2D detection of every view) and/or "fusion" (the fusion model's 3D candidates, each
  // projected into every view with core::project_box: one query per view that sees it, its reference point starting
  // at the candidate's centre). The default is the official path, unchanged.
  std::vector<std::string> proposal_sources = {"detect2d"};
  // Fused candidates (`proposals.fusion_candidates`): the best top_k scoring >= score_threshold; during training the
  // counted truths whose centre lies farther than gt_append_mm from every candidate join as candidates (as
  // gt_append_iou does for 2D proposals). score_weight w: a fused query's score is p_head^(1 - w) s_fusion^w.
  int fusion_top_k = 20;
  double fusion_score_threshold = 0.05;
  double fusion_gt_append_mm = 10.0;
  double fusion_score_weight = 0.0;
  bool uses_source(const std::string& source) const;

  // Proposals from detect2d (per view).
  double proposal_score_threshold = 0.05;
  double proposal_nms_threshold = 0.6;  // class-agnostic
  int proposals_per_view = 75;
  double min_proposal_size_px = 2.0;  // boxes with w or h below this are dropped (3 mm nodules at 256^2 are ~2-4 px)
  double gt_append_iou = 0.4;         // training: ground-truth boxes whose best IoU with a detection is below this join
  double min_intrinsics_box_px = 1.0;  // RoI-rebased intrinsics are zeroed for smaller boxes (official: 4 px)

  // RoI features.
  int feature_stride = 16;  // the FPN level pooled for queries and keys (closest stride present)
  int roi_size = 7;
  int roi_sampling_ratio = 2;

  // Transformer.
  int d_model = 256;
  int heads = 8;
  int layers = 6;
  int ffn = 2048;
  double dropout = 0.1;

  // Query generator: conv3x3 d -> avgpool -> FC qg_fc, concat 16 intrinsics -> MLP qg_mlp... -> (u, v, d).
  int qg_fc = 1024;
  std::vector<int> qg_mlp = {512, 256};
  double intrinsics_scale = 0.1;
  double depth_scale_mm = 100.0;  // the depth output unit: d = prior depth + depth_scale_mm * output
  // The prior depth: "iso" (official: the isocentre's depth in every view) or "rays" (where the RoI's centre ray
  // meets the other views' RoI rays, ray_consensus_depths; "iso" where they give none). docs/detect3d.md.
  std::string depth_prior = "iso";
  RayDepthOptions ray_depth;

  // Position encodings.
  int pe_freqs = 128;  // sine frequencies per axis (query PE input 3 * 128 * ... see docs)
  double pe_temperature = 10000.0;
  int key_pe_depths = 64;
  int key_pe_hidden = 1024;

  // Scene (reference normalization and frustum depths): the shared `detect3d.scene`.
  SceneRange range;
  std::vector<double> frustum_depth_mm;  // {near, far}; empty: the depth span of the scene range in each view

  // Head and losses.
  double center_unit_mm = 10.0;  // L1 code: centre / center_unit_mm and log(size): 1 mm ~ a 10 % size error
  double size_prior_mm = 10.0;   // log-size output starts here
  double focal_alpha = 0.25, focal_gamma = 2.0;
  double cls_weight = 2.0, reg_weight = 0.25;
  double match_cls_weight = 2.0, match_reg_weight = 0.25;
  // "hungarian": one-to-one per case (MV2D). "iou2d": one-to-many, each query positive for the truth whose
  // projection overlaps its RoI by IoU >= match_iou2d (a ring sees every nodule ~10 times: see docs/detect3d.md).
  std::string match_mode = "hungarian";
  double match_iou2d = 0.5;
  double loss_weight_2d = 1.0, loss_weight_3d = 1.0;
  // Training: the 2D detector runs without gradient (its losses are still logged, not optimized), so a step costs
  // the 3D head's backward pass alone (the recipes freeze the stage-1 detector anyway; train.param_groups with
  // lr_mult 0 still computes its gradients).
  bool freeze_detector = false;

  // Inference.
  int top_k = 100;
  double score_threshold = 0.0;
  double nms_3d_distance_mm = 0.0;  // > 0: suppress lower-scored boxes whose centre lies closer (off, as MV2D)

  // The section's name in messages (`detect3d.mv2d`, or `detect3d.mv2d_fusion` for the method of that name).
  std::string section_name = "detect3d.mv2d";

  // The `detect3d.mv2d` section (unknown keys and bad values: ConfigError naming the key and its file); keys absent
  // from it keep the values of `defaults`.
  static Mv2dConfig from_config(const core::Config& section, const Mv2dConfig& defaults);
  static Mv2dConfig from_config(const core::Config& section) { return from_config(section, Mv2dConfig()); }
  void validate() const;  // throws ConfigError naming the field
};

}  // namespace xraylift::detect3d
