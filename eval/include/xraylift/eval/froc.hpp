#pragma once
// LUNA16 FROC and CPM, reproducing noduleCADEvaluationLUNA16.py (see docs/eval.md for the derivation):
//   - a prediction hits a (non-ignored) truth when its centre is strictly within the truth's radius of the
//     truth's centre; each truth is counted once, with the highest score among its hits; one prediction may
//     hit several truths;
//   - further hits on an already-hit truth ("double detections") are ignored by LUNA16; with
//     duplicates_as_false_positives they count as false positives instead;
//   - a prediction that hits nothing but lies within an ignore region's radius is dropped;
//   - every other prediction is a false positive;
//   - curve: at each distinct score threshold (descending), fps = FPs at or above it / number of scans and
//     sensitivity = hits at or above it / all truths, starting at (0, 0) (sklearn roc_curve's first point);
//   - sensitivity at an FP rate = numpy.interp(rate, fps, sensitivity); CPM = mean over the rates.
#include <cstdint>
#include <vector>

#include "xraylift/eval/cases3d.hpp"

namespace xraylift::eval {

std::vector<double> luna16_fp_rates();  // 1/8, 1/4, 1/2, 1, 2, 4, 8

struct FrocOptions {
  std::vector<double> fp_rates = luna16_fp_rates();
  bool duplicates_as_false_positives = false;  // LUNA16: false (double detections are ignored)
};

// One scan's contribution, computed once (bootstrap resamples these).
struct CaseFroc {
  std::vector<double> hit_scores;  // one per detected truth: its best hit's score
  int missed = 0;                  // truths with no hit
  std::vector<double> fp_scores;
  int ignored_predictions = 0;  // on ignore regions, or LUNA16 double detections
};

CaseFroc froc_case(const EvalCase& c, const FrocOptions& options = {});

struct FrocCurve {
  std::vector<double> fps, sensitivity, thresholds;  // thresholds[0] = +inf for the (0, 0) point
  std::vector<double> fp_rates, sensitivity_at_rates;
  double cpm = -1;  // -1 when there is no truth
  int num_scans = 0, num_truths = 0, num_detected = 0, num_false_positives = 0;
};

// `cases` may repeat entries (bootstrap samples). Throws InputError for empty or non-positive fp_rates.
FrocCurve froc_curve(const std::vector<const CaseFroc*>& cases, const FrocOptions& options = {});
FrocCurve froc_curve(const std::vector<CaseFroc>& cases, const FrocOptions& options = {});

// The same from entries already sorted by descending score: (score, is hit); misses count only in num_truths.
struct FrocEntry {
  double score;
  bool hit;
};
FrocCurve froc_curve_sorted(const std::vector<FrocEntry>& sorted_entries, int num_truths, int num_scans,
                            const FrocOptions& options = {});

}  // namespace xraylift::eval
