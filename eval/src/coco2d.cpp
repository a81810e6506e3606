#include "xraylift/eval/coco2d.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "xraylift/core/error.hpp"
#include "xraylift/eval/numeric.hpp"

namespace xraylift::eval {
namespace {

void validate_box2d(const core::Box2D& b, const std::string& where) {
  XL_CHECK(std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1), where, ": box [",
           b.x0, ", ", b.y0, ", ", b.x1, ", ", b.y1, "] is not finite");
  XL_CHECK(b.x1 >= b.x0 && b.y1 >= b.y0, where, ": box [", b.x0, ", ", b.y0, ", ", b.x1, ", ", b.y1,
           "] is inverted, expected x0 <= x1 and y0 <= y1");
}

// pycocotools' bbox IoU; for crowd ("ignore") truths the union is the detection's area alone.
double coco_iou(const core::Box2D& det, const core::Box2D& gt, bool crowd) {
  const double inter = core::intersection(det, gt).area();
  const double denom = crowd ? det.area() : det.area() + gt.area() - inter;
  return denom > 0 ? inter / denom : 0.0;
}

struct ImageEntry {
  std::vector<const GroundTruth2D*> truths;    // non-ignored first (stable)
  std::vector<const Detection2D*> detections;  // descending score (stable), top max_detections
};

// Per image and threshold: whether each detection is a TP (1), FP (0) or ignored (-1).
std::vector<int> match_image(const ImageEntry& img, const std::vector<std::vector<double>>& ious, double threshold) {
  std::vector<int> det_state(img.detections.size(), 0);
  std::vector<bool> gt_taken(img.truths.size(), false);
  for (std::size_t d = 0; d < img.detections.size(); ++d) {
    double best = std::min(threshold, 1 - 1e-10);
    int m = -1;
    for (std::size_t g = 0; g < img.truths.size(); ++g) {
      const bool ignored = img.truths[g]->ignore;
      if (gt_taken[g] && !ignored) continue;
      if (m > -1 && !img.truths[m]->ignore && ignored) break;
      if (ious[d][g] < best) continue;
      best = ious[d][g];
      m = static_cast<int>(g);
    }
    if (m == -1) continue;
    det_state[d] = img.truths[m]->ignore ? -1 : 1;
    gt_taken[m] = true;
  }
  return det_state;
}

}  // namespace

std::vector<double> default_coco_iou_thresholds() { return linspace(0.5, 0.95, 10); }
std::vector<double> recall_points_101() { return linspace(0.0, 1.0, 101); }

Coco2DResult evaluate_coco2d(const std::vector<GroundTruth2D>& truths, const std::vector<Detection2D>& detections,
                             const Coco2DOptions& options) {
  Coco2DResult result;
  result.iou_thresholds = options.iou_thresholds.empty() ? default_coco_iou_thresholds() : options.iou_thresholds;
  XL_CHECK(options.max_detections > 0, "evaluate_coco2d: max_detections = ", options.max_detections, ", expected > 0");
  for (double t : result.iou_thresholds) {
    XL_CHECK(std::isfinite(t) && t > 0 && t <= 1, "evaluate_coco2d: IoU threshold ", t, ", expected (0, 1]");
  }
  // Sorted image ids, as pycocotools orders images; ties in score across images keep this order.
  std::map<std::string, ImageEntry> images;
  for (std::size_t i = 0; i < truths.size(); ++i) {
    validate_box2d(truths[i].box, core::cat("truth ", i, " (image '", truths[i].image_id, "')"));
    images[truths[i].image_id].truths.push_back(&truths[i]);
  }
  for (std::size_t i = 0; i < detections.size(); ++i) {
    const auto& d = detections[i];
    const std::string where = core::cat("detection ", i, " (image '", d.image_id, "')");
    validate_box2d(d.box, where);
    XL_CHECK(std::isfinite(d.score) && d.score >= 0 && d.score <= 1, where, ": score = ", d.score,
             ", expected a number in [0, 1]");
    images[d.image_id].detections.push_back(&d);
  }
  for (auto& [id, img] : images) {
    std::stable_partition(img.truths.begin(), img.truths.end(), [](const GroundTruth2D* g) { return !g->ignore; });
    std::stable_sort(img.detections.begin(), img.detections.end(),
                     [](const Detection2D* a, const Detection2D* b) { return a->score > b->score; });
    if (static_cast<int>(img.detections.size()) > options.max_detections) img.detections.resize(options.max_detections);
    for (const auto* g : img.truths) result.num_truths += g->ignore ? 0 : 1;
    result.num_detections += static_cast<int>(img.detections.size());
  }

  // Detections of all images in pycocotools' accumulate order: stable by descending score over the
  // concatenation of the images' (already sorted) lists.
  struct Ref {
    const Detection2D* det;
    std::size_t image;
    std::size_t index;
  };
  std::vector<Ref> order;
  std::vector<const ImageEntry*> image_list;
  std::vector<std::vector<std::vector<double>>> image_ious;
  for (const auto& [id, img] : images) {
    const std::size_t k = image_list.size();
    image_list.push_back(&img);
    std::vector<std::vector<double>> ious(img.detections.size(), std::vector<double>(img.truths.size()));
    for (std::size_t d = 0; d < img.detections.size(); ++d) {
      order.push_back({img.detections[d], k, d});
      for (std::size_t g = 0; g < img.truths.size(); ++g)
        ious[d][g] = coco_iou(img.detections[d]->box, img.truths[g]->box, img.truths[g]->ignore);
    }
    image_ious.push_back(std::move(ious));
  }
  std::stable_sort(order.begin(), order.end(), [](const Ref& a, const Ref& b) { return a.det->score > b.det->score; });

  const std::vector<double> rec_thrs = recall_points_101();
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  std::vector<double> recall_per_iou;
  for (double t : result.iou_thresholds) {
    std::vector<std::vector<int>> states;
    for (std::size_t k = 0; k < image_list.size(); ++k) states.push_back(match_image(*image_list[k], image_ious[k], t));
    if (result.num_truths == 0) {
      result.ap_per_iou.push_back(-1);
      recall_per_iou.push_back(-1);
      continue;
    }
    std::vector<double> rc, pr;
    double tp = 0, fp = 0;
    for (const Ref& r : order) {
      const int s = states[r.image][r.index];
      if (s < 0) continue;  // matched an ignore truth: dropped from the ranking
      (s == 1 ? tp : fp) += 1;
      rc.push_back(tp / result.num_truths);
      pr.push_back(tp / (tp + fp + eps));
    }
    recall_per_iou.push_back(rc.empty() ? 0.0 : rc.back());
    for (std::size_t i = pr.size(); i-- > 1;) pr[i - 1] = std::max(pr[i - 1], pr[i]);
    std::vector<double> q(rec_thrs.size(), 0.0);
    for (std::size_t ri = 0; ri < rec_thrs.size(); ++ri) {
      const std::size_t pi =
          static_cast<std::size_t>(std::lower_bound(rc.begin(), rc.end(), rec_thrs[ri]) - rc.begin());
      if (pi >= rc.size()) break;
      q[ri] = pr[pi];
    }
    result.ap_per_iou.push_back(std::accumulate(q.begin(), q.end(), 0.0) / q.size());
    if (std::abs(t - 0.5) < 1e-12) {
      result.recall_points = rec_thrs;
      result.precision_at_recall_50 = q;
    }
  }
  auto at = [&](double t) {
    for (std::size_t i = 0; i < result.iou_thresholds.size(); ++i)
      if (std::abs(result.iou_thresholds[i] - t) < 1e-12) return result.ap_per_iou[i];
    return -1.0;
  };
  result.ap50 = at(0.5);
  result.ap75 = at(0.75);
  if (result.num_truths == 0) {
    result.ap50_95 = result.ar100 = -1;
  } else {
    result.ap50_95 =
        std::accumulate(result.ap_per_iou.begin(), result.ap_per_iou.end(), 0.0) / result.ap_per_iou.size();
    result.ar100 = std::accumulate(recall_per_iou.begin(), recall_per_iou.end(), 0.0) / recall_per_iou.size();
  }
  return result;
}

}  // namespace xraylift::eval
