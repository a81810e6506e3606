#pragma once
// Ranked-detection metrics on 3D boxes.
//
// nuScenes detection score adapted to millimetres (nuscenes-devkit detection/algo.py, reproduced):
//   - predictions in descending score order each take the NEAREST unmatched truth of their case; a match when
//     that centre distance < threshold (mm); otherwise a false positive, unless it is on an ignore region (then
//     dropped). Duplicates are false positives.
//   - tied scores are ranked as the devkit's `sorted((score, index))[::-1]` does: in DESCENDING order of the
//     prediction's position in the prediction file (cases in file order, boxes in case order), both for the
//     matching inside a case and for the ranking across cases.
//   - precision and recall at every rank; precision, confidence and the running means of the TP errors
//     resampled at recall numpy.linspace(0, 1, 101) with numpy.interp (right = 0) exactly as the devkit does;
//   - AP = mean(max(precision[11:] - 0.1, 0)) / 0.9 (recall bins above 0.1);
//   - ATE (mm) and ASE (1 - aligned IoU) = mean of the resampled running errors from recall index 11 to the
//     last index with non-zero confidence (undefined, -1, when that range is empty).
// 3D IoU AP (MMDetection3D indoor_eval, reproduced): a prediction takes its case's truth of highest IoU; a
//   TP when IoU > threshold and that truth is still free, else an FP (or dropped on an ignore region); AP =
//   area under the monotone precision envelope ("area" mode). Tied scores keep the file order (stable).
#include <vector>

#include "xraylift/eval/cases3d.hpp"

namespace xraylift::eval {

// One ranked prediction after matching (ignored predictions are not listed).
struct RankedMatch {
  double score = 0;
  bool tp = false;
  double trans_err = 0, scale_err = 0;  // for TPs: centre distance (mm), 1 - aligned IoU
  int position = -1;      // the case's position in the prediction file (EvalCase::prediction_file_position)
  std::size_t index = 0;  // the prediction's index in its case
};

// The nuScenes devkit's ranking: descending score; ties by descending (position, index), i.e. by descending
// place in the prediction file.
bool devkit_ranks_before(const RankedMatch& a, const RankedMatch& b);

struct CaseMatches {
  std::vector<RankedMatch> matches;  // in the case's descending-score order
  int num_truths = 0;                // non-ignored
  int ignored_predictions = 0;
};

CaseMatches match_by_distance(const EvalCase& c, double threshold_mm);
// Radius-relative variant: a match when the distance is below radius_fraction x the truth's radius (so 1.0 is
// the LUNA16 hit criterion, ranked as AP); ignore regions likewise use their own radius x the fraction (or 1).
CaseMatches match_by_relative_distance(const EvalCase& c, double radius_fraction);
CaseMatches match_by_iou(const EvalCase& c, double iou_threshold);

struct DistanceCurve {
  double threshold = 0;
  std::vector<double> recall, precision, confidence, trans_err, scale_err;  // 101 points each
  double ap = -1;                                                           // -1 when there is no truth
  double ate_mm = -1, ase = -1;                                             // -1 when undefined
  int num_truths = 0, num_tp = 0, num_fp = 0;
};

struct IouCurve {
  double threshold = 0;
  std::vector<double> recall, precision;  // at every rank
  double ap = -1;
  int num_truths = 0, num_tp = 0, num_fp = 0;
};

// `cases` may repeat entries (bootstrap). Distance curves rank with devkit_ranks_before (a position of -1 is
// replaced by the case's index in `cases`); IoU curves by descending score, ties by case order.
DistanceCurve accumulate_distance(const std::vector<const CaseMatches*>& cases, double threshold_mm);
IouCurve accumulate_iou(const std::vector<const CaseMatches*>& cases, double iou_threshold);
// The same from matches already ranked (devkit_ranks_before) with npos non-ignored truths.
DistanceCurve accumulate_distance_ranked(const std::vector<RankedMatch>& ranked, int npos, double threshold_mm);

// nuScenes-style combined score: (5 mAP + (1 - min(1, ATE / tp_threshold)) + (1 - ASE)) / 7; an undefined
// ATE or ASE counts as the worst (its term 0); -1 when mAP is undefined.
double detection_score(double map, double ate_mm, double ase, double tp_threshold_mm);

}  // namespace xraylift::eval
