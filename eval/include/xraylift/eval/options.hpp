#pragma once
// Evaluation options from a config section (configs/eval/default.yaml documents every key):
//   min_diameter_mm, min_readers, unsized_diameter_mm, fp_rates, duplicates_as_false_positives, distance_thresholds_mm,
//   tp_threshold_mm, relative_thresholds, iou_thresholds, size_bins_mm ([[3, 6], ...]), breakdowns, bootstrap_samples,
//   confidence, seed; for 2D: iou_thresholds_2d, max_detections_2d.
#include "xraylift/core/config.hpp"
#include "xraylift/eval/coco2d.hpp"
#include "xraylift/eval/evaluate3d.hpp"

namespace xraylift::eval {

// Reads the keys it knows (defaults: Eval3DOptions{}); throws ConfigError naming the key on bad values.
Eval3DOptions eval3d_options_from_config(const core::Config& section);
Coco2DOptions coco2d_options_from_config(const core::Config& section);

}  // namespace xraylift::eval
