#pragma once
// Truth and predictions paired per case: the input of every 3D metric.
//   - A truth box is an "ignore" region when its file says so (sub-3 mm nodules, nonNodules) or when it fails
//     the TruthFilter (too small, too few readers): predictions on it are neither hits nor false positives
//     (LUNA16's "irrelevant findings").
//   - "On" an ignore region means: centre within the region's radius (diameter() / 2) of its centre, or
//     matching it by the metric's own criterion (centre distance below the threshold; IoU above it).
//   - A prediction case id absent from the truth file is an error; a truth case absent from the predictions
//     is a case with no predictions.
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"

namespace xraylift::eval {

struct TruthFilter {
  double min_diameter_mm = 0.0;  // truths with diameter() below this become ignore regions
  int min_readers = 0;           // truths with a KNOWN reader count (> 0) below this become ignore regions
};

struct EvalCase {
  std::string case_id;
  std::vector<core::BoxRecord> truths;       // every truth, `ignore` resolved (file flag or filter)
  std::vector<core::BoxRecord> predictions;  // in file order
};

// Validates both sets (finite boxes with sizes > 0, scores in [0, 1], known case ids) with errors naming the
// origin (file) and entry; returns the truth file's cases in its order.
std::vector<EvalCase> pair_cases(const core::BoxSet& truth, const std::string& truth_origin,
                                 const core::BoxSet& predictions, const std::string& prediction_origin,
                                 const TruthFilter& filter = {});

// core::read_box_set, with JSON library errors that core lets through (a number too large for a double, 1e999)
// turned into an InputError naming the file.
core::BoxSet read_box_set_checked(const std::filesystem::path& path);

// Radius of a truth for hit tests: diameter() / 2 (diameter_mm when given, else the mean box extent).
double truth_radius(const core::BoxRecord& truth);
double centre_distance(const core::BoxRecord& a, const core::BoxRecord& b);

int count_truths(const std::vector<EvalCase>& cases, bool ignored);
int count_predictions(const std::vector<EvalCase>& cases);

}  // namespace xraylift::eval
