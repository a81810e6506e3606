#include "xraylift/eval/options.hpp"

#include <cmath>

namespace xraylift::eval {

Eval3DOptions eval3d_options_from_config(const core::Config& c) {
  Eval3DOptions o;
  o.truth_filter.min_diameter_mm = c.get<double>("min_diameter_mm", o.truth_filter.min_diameter_mm);
  o.truth_filter.min_readers = c.get<int>("min_readers", o.truth_filter.min_readers);
  o.truth_filter.unsized_diameter_mm = c.get<double>("unsized_diameter_mm", o.truth_filter.unsized_diameter_mm);
  o.truth_filter.textures = c.get<std::vector<std::string>>("textures", o.truth_filter.textures);
  o.froc.fp_rates = c.get<std::vector<double>>("fp_rates", o.froc.fp_rates);
  o.froc.duplicates_as_false_positives =
      c.get<bool>("duplicates_as_false_positives", o.froc.duplicates_as_false_positives);
  o.distance_thresholds_mm = c.get<std::vector<double>>("distance_thresholds_mm", o.distance_thresholds_mm);
  o.tp_threshold_mm = c.get<double>("tp_threshold_mm", o.tp_threshold_mm);
  o.relative_thresholds = c.get<std::vector<double>>("relative_thresholds", o.relative_thresholds);
  o.iou_thresholds = c.get<std::vector<double>>("iou_thresholds", o.iou_thresholds);
  o.breakdowns = c.get<bool>("breakdowns", o.breakdowns);
  o.bootstrap_samples = c.get_in_range<int>("bootstrap_samples", o.bootstrap_samples, 0, 100000);
  o.confidence = c.get<double>("confidence", o.confidence);
  o.seed = c.get<unsigned long>("seed", static_cast<unsigned long>(o.seed));
  if (c.has("size_bins_mm")) {
    const YAML::Node bins = c.node("size_bins_mm");
    const std::string key = c.full_key("size_bins_mm");
    if (!bins.IsSequence()) throw core::ConfigError(core::cat(key, ": expected a list of [min, max] pairs"));
    o.size_bins.clear();
    for (std::size_t i = 0; i < bins.size(); ++i) {
      if (!bins[i].IsSequence() || bins[i].size() != 2)
        throw core::ConfigError(core::cat(key, "[", i, "]: expected [min_mm, max_mm]"));
      try {
        o.size_bins.push_back({bins[i][0].as<double>(), bins[i][1].as<double>()});
      } catch (const YAML::Exception&) {
        throw core::ConfigError(core::cat(key, "[", i, "]: expected two numbers"));
      }
    }
  }
  try {
    validate(o);
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(
        core::cat("config: ", e.what(), " (set under eval: in the config or with --set eval.KEY=...)"));
  }
  return o;
}

Coco2DOptions coco2d_options_from_config(const core::Config& c) {
  Coco2DOptions o;
  o.iou_thresholds = c.get<std::vector<double>>("iou_thresholds_2d", o.iou_thresholds);
  if (o.iou_thresholds.empty()) o.iou_thresholds = default_coco_iou_thresholds();
  o.max_detections = c.get<int>("max_detections_2d", o.max_detections);
  if (o.max_detections <= 0)
    throw core::ConfigError(core::cat(c.full_key("max_detections_2d"), " = ", o.max_detections, ", expected > 0"));
  for (double t : o.iou_thresholds)
    if (!(std::isfinite(t) && t > 0 && t <= 1))
      throw core::ConfigError(core::cat(c.full_key("iou_thresholds_2d"), ": ", t, ", expected (0, 1]"));
  return o;
}

}  // namespace xraylift::eval
