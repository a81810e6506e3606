#pragma once
// COCO-style 2D detection AP for one category-agnostic class (the pycocotools definition, reproduced):
//   - per image, detections sorted by descending score (stable), the top max_detections kept;
//   - greedy matching in that order: each detection takes the unmatched non-ignored truth of highest IoU
//     >= the threshold; failing that, an "ignore" truth (COCO crowd semantics: IoU is intersection over the
//     detection's area, and an ignore truth can absorb any number of detections);
//   - detections matched to an ignore truth are neither TP nor FP; ignore truths are not counted in recall;
//   - precision made monotone from the right, read at 101 recall points 0, 0.01, ..., 1 (first rank whose
//     recall >= r; 0 where r is never reached); AP = mean of those 101 values.
// Values are -1 when undefined (no non-ignored truth), as pycocotools reports.
// Per-view figures: the caller groups boxes by view and calls this once per group (image_id = case/view).
#include <string>
#include <vector>

#include "xraylift/core/box.hpp"

namespace xraylift::eval {

struct GroundTruth2D {
  std::string image_id;
  core::Box2D box;
  bool ignore = false;
};

struct Detection2D {
  std::string image_id;
  core::Box2D box;
  double score = 0;
};

// The COCO default thresholds 0.50, 0.55, ..., 0.95 (numpy.linspace(0.5, 0.95, 10), as pycocotools).
std::vector<double> default_coco_iou_thresholds();

struct Coco2DOptions {
  std::vector<double> iou_thresholds = default_coco_iou_thresholds();  // empty also means this default
  int max_detections = 100;                                            // per image
};

struct Coco2DResult {
  double ap50 = 0, ap75 = 0, ap50_95 = 0, ar100 = 0;          // ap50/ap75 are -1 when that threshold is not evaluated
  std::vector<double> ap_per_iou;                             // one per options.iou_thresholds (resolved)
  std::vector<double> iou_thresholds;                         // the thresholds used
  std::vector<double> recall_points, precision_at_recall_50;  // 101-point PR at IoU 0.5 (empty without 0.5)
  int num_truths = 0, num_detections = 0;                     // non-ignored truths; detections evaluated
};

// 0, 0.01, ..., 1 exactly as numpy.linspace(0, 1, 101) computes them (i * 0.01, last = 1), so that
// comparisons at the recall points agree with pycocotools and nuScenes bit for bit.
std::vector<double> recall_points_101();

// Throws InputError for non-finite or inverted boxes, scores outside [0, 1], bad options.
Coco2DResult evaluate_coco2d(const std::vector<GroundTruth2D>& truths, const std::vector<Detection2D>& detections,
                             const Coco2DOptions& options = {});

}  // namespace xraylift::eval
