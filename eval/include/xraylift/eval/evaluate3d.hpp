#pragma once
// All 3D localization metrics over a set of cases, with bootstrap confidence intervals (scans resampled with
// replacement, LUNA16's percentile rule) and breakdowns by nodule size and reader agreement (truths outside
// a bin become ignore regions, so predictions on them are neither hits nor false positives).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xraylift/eval/cases3d.hpp"
#include "xraylift/eval/detection3d.hpp"
#include "xraylift/eval/froc.hpp"

namespace xraylift::eval {

struct SizeBin {
  double min_mm = 0, max_mm = 0;  // [min, max)
  std::string label() const;
};

struct Eval3DOptions {
  TruthFilter truth_filter;
  FrocOptions froc;
  std::vector<double> distance_thresholds_mm = {2, 4, 8, 16};
  double tp_threshold_mm = 8;  // ATE / ASE are read at this distance threshold (must be one of the above)
  std::vector<double> relative_thresholds = {0.5, 1.0};  // radius fractions for the radius-relative mAP (may be empty)
  std::vector<double> iou_thresholds = {0.1, 0.25};
  std::vector<SizeBin> size_bins = {{3, 6}, {6, 10}, {10, 20}, {20, 30}};
  bool breakdowns = true;        // by size bin, and by reader count when any truth has one
  int bootstrap_samples = 1000;  // 0 = no confidence intervals
  double confidence = 0.95;
  std::uint64_t seed = 20160101;
};

// Validates an options object; throws ConfigError naming the field.
void validate(const Eval3DOptions& options);

struct Interval {
  double lower = -1, upper = -1;
};

struct Metrics3D {
  int num_cases = 0, num_truths = 0, num_ignored_truths = 0, num_predictions = 0;
  FrocCurve froc;
  std::vector<DistanceCurve> distance;  // one per distance threshold
  double map = -1, ate_mm = -1, ase = -1, score = -1;
  std::vector<DistanceCurve> relative;  // one per radius fraction (threshold = the fraction)
  double map_relative = -1;
  std::vector<IouCurve> iou;  // one per IoU threshold
};

struct Breakdown {
  std::string group;  // "size" or "readers"
  std::string label;  // "3-6 mm", "4 readers"
  Metrics3D metrics;
};

struct Eval3DResult {
  Metrics3D overall;
  // Bootstrap intervals (empty without bootstrap): CPM, sensitivity at each FP rate, mAP, score.
  int bootstrap_samples = 0;
  Interval cpm_ci, map_ci, score_ci;
  std::vector<Interval> sensitivity_ci;
  std::vector<Breakdown> breakdowns;
};

Metrics3D compute_metrics(const std::vector<EvalCase>& cases, const Eval3DOptions& options);
Eval3DResult evaluate_3d(const std::vector<EvalCase>& cases, const Eval3DOptions& options = {});
// One bootstrap resample through the bootstrap's fast path: draws[i] = how often case i was drawn. Equals
// compute_metrics on the list with case i repeated draws[i] times (up to the order of tied scores); no IoU AP.
Metrics3D resample_metrics(const std::vector<EvalCase>& cases, const std::vector<int>& draws,
                           const Eval3DOptions& options);

// The paired bootstrap of the difference between two prediction sets on the same scans (b - a): every resample
// draws the scans once and scores both sets on that draw, so the variation between scans, which both sets share,
// cancels. Separate intervals cannot show this: two sets whose LUNA16 intervals overlap widely can still differ
// on nearly every resample. The draws are those of evaluate_3d's intervals with the same options (seed, samples).
// Throws InputError when a and b are not the same scans (case ids, in order) with the same truths.
struct PairedDifference {
  int bootstrap_samples = 0;      // resamples drawn (0: options.bootstrap_samples was 0)
  int defined_samples = 0;        // resamples in which both sets' CPM and mAP are defined (a truth was drawn)
  double cpm_a = -1, cpm_b = -1;  // on all scans once each
  double map_a = -1, map_b = -1;
  double cpm_difference = 0, map_difference = 0;  // b - a on all scans (0 when either is undefined)
  double cpm_lower = 0, cpm_upper = 0;            // percentile interval of the resampled differences
  double map_lower = 0, map_upper = 0;
  // Share of the resamples in which b's CPM is not above a's: the one-sided bootstrap p-value of "b finds more".
  double cpm_share_not_better = -1;
};
PairedDifference paired_difference(const std::vector<EvalCase>& a, const std::vector<EvalCase>& b,
                                   const Eval3DOptions& options);
nlohmann::json to_json(const PairedDifference& d);

// The percentile interval LUNA16 uses: sorted values v, lower = v[floor(p n)], upper = v[floor((1 - p) n)]
// with p = (1 - confidence) / 2 (index clamped to n - 1).
Interval percentile_interval(std::vector<double> values, double confidence);

nlohmann::json to_json(const Metrics3D& m, bool with_curves);
nlohmann::json to_json(const Eval3DResult& r, const Eval3DOptions& options);

}  // namespace xraylift::eval
