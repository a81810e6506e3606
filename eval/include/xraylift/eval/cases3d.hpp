#pragma once
// Truth and predictions paired per case: the input of every 3D metric.
//   - A truth box is an "ignore" region when its file says so (sub-3 mm nodules, nonNodules) or when it fails
//     the TruthFilter (too small, too few readers): predictions on it are neither hits nor false positives
//     (LUNA16's "irrelevant findings").
//   - A truth without a measured size ("sized": false: sub-3 mm point marks, nonNodules) gets the diameter
//     unsized_diameter_mm (10 mm) for every test, as noduleCADEvaluationLUNA16.py does for its excluded
//     findings (`if diameter < 0: diameter = 10`); with min_diameter_mm > 0 it is also below the minimum.
//   - "On" an ignore region means: centre within the region's radius (diameter() / 2) of its centre, or
//     matching it by the metric's own criterion (centre distance below the threshold; IoU above it).
//   - A prediction case id absent from the truth file is an error; a truth case absent from the predictions
//     is a case with no predictions.
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"

namespace xraylift::eval {

// min_diameter_mm, min_readers (known counts only) and unsized_diameter_mm: the rule of core::TruthFilter.
using TruthFilter = core::TruthFilter;

struct EvalCase {
  std::string case_id;
  std::vector<core::BoxRecord> truths;       // every truth, `ignore` and unsized diameters resolved
  std::vector<core::BoxRecord> predictions;  // in file order
  // Position of this case in the prediction file (pair_cases sets it; -1: its position in the case list).
  // The nuScenes ranking orders tied scores by descending position in the prediction file.
  int prediction_file_position = -1;
};

// Validates both sets (finite boxes with sizes > 0, scores in [0, 1], known case ids) with errors naming the
// origin (file) and entry; returns the truth file's cases in its order, each with its prediction file position.
std::vector<EvalCase> pair_cases(const core::BoxSet& truth, const std::string& truth_origin,
                                 const core::BoxSet& predictions, const std::string& prediction_origin,
                                 const TruthFilter& filter = {});

// Radius of a truth for hit tests: diameter() / 2 (diameter_mm when given, else the mean box extent).
double truth_radius(const core::BoxRecord& truth);
double centre_distance(const core::BoxRecord& a, const core::BoxRecord& b);

int count_truths(const std::vector<EvalCase>& cases, bool ignored);
int count_predictions(const std::vector<EvalCase>& cases);

}  // namespace xraylift::eval
