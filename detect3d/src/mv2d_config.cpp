#include "xraylift/detect3d/mv2d_config.hpp"

#include <algorithm>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d {

bool Mv2dConfig::uses_source(const std::string& source) const {
  return std::find(proposal_sources.begin(), proposal_sources.end(), source) != proposal_sources.end();
}

Mv2dConfig Mv2dConfig::from_config(const core::Config& c, const Mv2dConfig& defaults) {
  Mv2dConfig m = defaults;
  m.proposal_sources = c.get("proposals.sources", m.proposal_sources);
  m.fusion_top_k = c.get("proposals.fusion_candidates.top_k", m.fusion_top_k);
  m.fusion_score_threshold = c.get("proposals.fusion_candidates.score_threshold", m.fusion_score_threshold);
  m.fusion_gt_append_mm = c.get("proposals.fusion_candidates.gt_append_mm", m.fusion_gt_append_mm);
  m.fusion_score_weight = c.get("proposals.fusion_candidates.score_weight", m.fusion_score_weight);
  m.proposal_score_threshold = c.get("proposals.score_threshold", m.proposal_score_threshold);
  m.proposal_nms_threshold = c.get("proposals.nms_threshold", m.proposal_nms_threshold);
  m.proposals_per_view = c.get("proposals.per_view", m.proposals_per_view);
  m.min_proposal_size_px = c.get("proposals.min_size_px", m.min_proposal_size_px);
  m.gt_append_iou = c.get("proposals.gt_append_iou", m.gt_append_iou);
  m.min_intrinsics_box_px = c.get("proposals.min_intrinsics_box_px", m.min_intrinsics_box_px);
  m.feature_stride = c.get("feature_stride", m.feature_stride);
  m.roi_size = c.get("roi_size", m.roi_size);
  m.roi_sampling_ratio = c.get("roi_sampling_ratio", m.roi_sampling_ratio);
  m.d_model = c.get("d_model", m.d_model);
  m.heads = c.get("heads", m.heads);
  m.layers = c.get("layers", m.layers);
  m.ffn = c.get("ffn", m.ffn);
  m.dropout = c.get("dropout", m.dropout);
  m.qg_fc = c.get("query_generator.fc", m.qg_fc);
  m.qg_mlp = c.get("query_generator.mlp", m.qg_mlp);
  m.intrinsics_scale = c.get("query_generator.intrinsics_scale", m.intrinsics_scale);
  m.depth_scale_mm = c.get("query_generator.depth_scale_mm", m.depth_scale_mm);
  m.depth_prior = c.get("query_generator.depth_prior", m.depth_prior);
  if (c.has("query_generator")) m.ray_depth.rays.read(c.section("query_generator"));
  m.ray_depth.window_mm = c.get("query_generator.ray_window_mm", m.ray_depth.window_mm);
  m.ray_depth.min_views = c.get("query_generator.ray_min_views", m.ray_depth.min_views);
  m.pe_freqs = c.get("position_encoding.freqs", m.pe_freqs);
  m.pe_temperature = c.get("position_encoding.temperature", m.pe_temperature);
  m.key_pe_depths = c.get("position_encoding.key_depths", m.key_pe_depths);
  m.key_pe_hidden = c.get("position_encoding.key_hidden", m.key_pe_hidden);
  m.frustum_depth_mm = c.get("frustum_depth_mm", m.frustum_depth_mm);
  m.center_unit_mm = c.get("loss.center_unit_mm", m.center_unit_mm);
  m.size_prior_mm = c.get("size_prior_mm", m.size_prior_mm);
  m.focal_alpha = c.get("loss.focal_alpha", m.focal_alpha);
  m.focal_gamma = c.get("loss.focal_gamma", m.focal_gamma);
  m.cls_weight = c.get("loss.cls_weight", m.cls_weight);
  m.reg_weight = c.get("loss.reg_weight", m.reg_weight);
  m.match_cls_weight = c.get("match.cls_weight", m.match_cls_weight);
  m.match_reg_weight = c.get("match.reg_weight", m.match_reg_weight);
  m.match_mode = c.get("match.mode", m.match_mode);
  m.match_iou2d = c.get("match.iou2d", m.match_iou2d);
  m.loss_weight_2d = c.get("loss.weight_2d", m.loss_weight_2d);
  m.loss_weight_3d = c.get("loss.weight_3d", m.loss_weight_3d);
  m.freeze_detector = c.get("freeze_detector", m.freeze_detector);
  m.top_k = c.get("test.top_k", m.top_k);
  m.score_threshold = c.get("test.score_threshold", m.score_threshold);
  m.nms_3d_distance_mm = c.get("test.nms_3d_distance_mm", m.nms_3d_distance_mm);
  const std::vector<std::string> groups = {"proposals",
                                           "feature_stride",
                                           "roi_size",
                                           "roi_sampling_ratio",
                                           "d_model",
                                           "heads",
                                           "layers",
                                           "ffn",
                                           "dropout",
                                           "query_generator",
                                           "position_encoding",
                                           "frustum_depth_mm",
                                           "loss",
                                           "size_prior_mm",
                                           "match",
                                           "test",
                                           "freeze_detector"};
  c.check_section_keys(groups);
  try {
    m.validate();
  } catch (const core::ConfigError& e) {
    std::string origin = "defaults";
    for (const auto& g : groups)
      if (origin == "defaults" && c.has(g)) origin = c.origin(g);
    throw core::ConfigError(core::cat(e.what(), " (from ", origin, ")"));
  }
  return m;
}

void Mv2dConfig::validate() const {
  auto fail = [&](const std::string& what) { throw core::ConfigError(section_name + " config: " + what); };
  auto in01 = [&](double v, const char* name) {
    if (!(v >= 0 && v <= 1)) fail(core::cat(name, " must be in [0, 1], got ", v));
  };
  if (proposal_sources.empty()) fail("proposals.sources must name one or more of detect2d, fusion, got none");
  for (std::size_t i = 0; i < proposal_sources.size(); ++i) {
    const auto& s = proposal_sources[i];
    if (s != "detect2d" && s != "fusion")
      fail(core::cat("proposals.sources: unknown source '", s, "' (expected detect2d or fusion)"));
    if (std::find(proposal_sources.begin(), proposal_sources.begin() + i, s) != proposal_sources.begin() + i)
      fail(core::cat("proposals.sources names '", s, "' twice"));
  }
  if (fusion_top_k < 1) fail(core::cat("proposals.fusion_candidates.top_k must be >= 1, got ", fusion_top_k));
  in01(fusion_score_threshold, "proposals.fusion_candidates.score_threshold");
  in01(fusion_score_weight, "proposals.fusion_candidates.score_weight");
  if (!(fusion_gt_append_mm >= 0)) fail("proposals.fusion_candidates.gt_append_mm must be >= 0");
  in01(proposal_score_threshold, "proposals.score_threshold");
  in01(proposal_nms_threshold, "proposals.nms_threshold");
  in01(gt_append_iou, "proposals.gt_append_iou");
  in01(score_threshold, "test.score_threshold");
  in01(dropout, "dropout");
  if (proposals_per_view < 1) fail(core::cat("proposals.per_view must be >= 1, got ", proposals_per_view));
  if (!(min_proposal_size_px >= 0)) fail("proposals.min_size_px must be >= 0");
  if (feature_stride < 1) fail(core::cat("feature_stride must be >= 1, got ", feature_stride));
  if (roi_size < 1) fail(core::cat("roi_size must be >= 1, got ", roi_size));
  if (d_model < 8 || heads < 1 || d_model % heads != 0)
    fail(core::cat("d_model (", d_model, ") must be >= 8 and divisible by heads (", heads, ")"));
  if (d_model % 2 != 0) fail("d_model must be even");
  if (layers < 1) fail(core::cat("layers must be >= 1, got ", layers));
  if (ffn < 1 || qg_fc < 1 || key_pe_hidden < 1)
    fail("ffn, query_generator.fc and position_encoding.key_hidden must be >= 1");
  for (int w : qg_mlp)
    if (w < 1) fail(core::cat("query_generator.mlp widths must be >= 1, got ", w));
  if (!(depth_scale_mm > 0)) fail("query_generator.depth_scale_mm must be > 0");
  if (depth_prior != "iso" && depth_prior != "rays")
    fail(core::cat("query_generator.depth_prior must be iso or rays, got '", depth_prior, "'"));
  ray_depth.validate();
  if (pe_freqs < 1 || pe_freqs % 2 != 0)
    fail(core::cat("position_encoding.freqs must be even and >= 2, got ", pe_freqs));
  if (!(pe_temperature > 1)) fail("position_encoding.temperature must be > 1");
  if (key_pe_depths < 2) fail("position_encoding.key_depths must be >= 2");
  range.validate("detect3d.scene");
  if (!frustum_depth_mm.empty() &&
      (frustum_depth_mm.size() != 2 || !(frustum_depth_mm[0] > 0) || !(frustum_depth_mm[1] > frustum_depth_mm[0])))
    fail("frustum_depth_mm must be [near, far] with 0 < near < far (mm), or empty");
  if (!(center_unit_mm > 0) || !(size_prior_mm > 0)) fail("loss.center_unit_mm and size_prior_mm must be > 0");
  if (!(focal_alpha >= 0 && focal_alpha <= 1) || !(focal_gamma >= 0))
    fail("loss.focal_alpha in [0, 1], focal_gamma >= 0");
  if (cls_weight < 0 || reg_weight < 0 || match_cls_weight < 0 || match_reg_weight < 0 || loss_weight_2d < 0 ||
      loss_weight_3d < 0)
    fail("loss and match weights must be >= 0");
  if (match_mode != "hungarian" && match_mode != "iou2d")
    fail(core::cat("match.mode must be hungarian or iou2d, got '", match_mode, "'"));
  in01(match_iou2d, "match.iou2d");
  if (top_k < 1) fail(core::cat("test.top_k must be >= 1, got ", top_k));
  if (!(nms_3d_distance_mm >= 0)) fail("test.nms_3d_distance_mm must be >= 0");
}

}  // namespace xraylift::detect3d
