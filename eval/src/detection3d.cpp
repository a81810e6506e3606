#include "xraylift/eval/detection3d.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "xraylift/core/error.hpp"
#include "xraylift/eval/coco2d.hpp"
#include "xraylift/eval/numeric.hpp"

namespace xraylift::eval {
namespace {

// Descending score; ties by ascending index (stable) or, as the nuScenes devkit, by descending index.
std::vector<std::size_t> score_order(const std::vector<core::BoxRecord>& preds, bool devkit_ties) {
  std::vector<std::size_t> order(preds.size());
  std::iota(order.begin(), order.end(), 0);
  if (devkit_ties) std::reverse(order.begin(), order.end());
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return preds[a].score > preds[b].score; });
  return order;
}

bool within_ignore_radius(const EvalCase& c, const core::BoxRecord& p, std::size_t t) {
  return c.truths[t].ignore && centre_distance(p, c.truths[t]) < truth_radius(c.truths[t]);
}

int count_valid(const EvalCase& c) {
  int n = 0;
  for (const auto& t : c.truths) n += t.ignore ? 0 : 1;
  return n;
}

std::vector<RankedMatch> merge_ranked(const std::vector<const CaseMatches*>& cases, int& npos, bool devkit_ties) {
  std::vector<RankedMatch> all;
  npos = 0;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    npos += cases[c]->num_truths;
    for (RankedMatch m : cases[c]->matches) {
      if (m.position < 0) m.position = static_cast<int>(c);
      all.push_back(m);
    }
  }
  if (devkit_ties)
    std::stable_sort(all.begin(), all.end(), devkit_ranks_before);
  else
    std::stable_sort(all.begin(), all.end(),
                     [](const RankedMatch& a, const RankedMatch& b) { return a.score > b.score; });
  return all;
}

// Greedy nearest-truth matching with a per-truth distance limit (absolute or radius-relative).
template <typename Limit>
CaseMatches match_nearest(const EvalCase& c, Limit limit_for) {
  CaseMatches out;
  out.num_truths = count_valid(c);
  std::vector<bool> taken(c.truths.size(), false);
  for (std::size_t p : score_order(c.predictions, true)) {
    const auto& pred = c.predictions[p];
    double best = std::numeric_limits<double>::infinity();
    int match = -1;
    for (std::size_t t = 0; t < c.truths.size(); ++t) {
      if (c.truths[t].ignore || taken[t]) continue;
      const double d = centre_distance(pred, c.truths[t]);
      if (d < best) best = d, match = static_cast<int>(t);
    }
    if (match >= 0 && best < limit_for(c.truths[match])) {
      taken[match] = true;
      out.matches.push_back({pred.score, true, best, 1.0 - core::aligned_iou(c.truths[match].box, pred.box),
                             c.prediction_file_position, p});
      continue;
    }
    bool ignored = false;
    for (std::size_t t = 0; t < c.truths.size() && !ignored; ++t)
      ignored = within_ignore_radius(c, pred, t) ||
                (c.truths[t].ignore && centre_distance(pred, c.truths[t]) < limit_for(c.truths[t]));
    if (ignored) {
      ++out.ignored_predictions;
    } else {
      out.matches.push_back({pred.score, false, 0, 0, c.prediction_file_position, p});
    }
  }
  return out;
}

}  // namespace

bool devkit_ranks_before(const RankedMatch& a, const RankedMatch& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.position != b.position) return a.position > b.position;
  return a.index > b.index;
}

CaseMatches match_by_distance(const EvalCase& c, double threshold_mm) {
  XL_CHECK(std::isfinite(threshold_mm) && threshold_mm > 0, "distance threshold ", threshold_mm,
           " mm, expected a finite value > 0");
  return match_nearest(c, [threshold_mm](const core::BoxRecord&) { return threshold_mm; });
}

CaseMatches match_by_relative_distance(const EvalCase& c, double radius_fraction) {
  XL_CHECK(std::isfinite(radius_fraction) && radius_fraction > 0, "radius-relative threshold ", radius_fraction,
           ", expected a finite value > 0");
  return match_nearest(c, [radius_fraction](const core::BoxRecord& t) { return radius_fraction * truth_radius(t); });
}

CaseMatches match_by_iou(const EvalCase& c, double iou_threshold) {
  XL_CHECK(std::isfinite(iou_threshold) && iou_threshold >= 0 && iou_threshold < 1, "IoU threshold ", iou_threshold,
           ", expected a value in [0, 1)");
  CaseMatches out;
  out.num_truths = count_valid(c);
  std::vector<bool> taken(c.truths.size(), false);
  for (std::size_t p : score_order(c.predictions, false)) {
    const auto& pred = c.predictions[p];
    double best = -std::numeric_limits<double>::infinity();
    int match = -1;
    for (std::size_t t = 0; t < c.truths.size(); ++t) {
      if (c.truths[t].ignore) continue;
      const double v = core::iou(pred.box, c.truths[t].box);
      if (v > best) best = v, match = static_cast<int>(t);
    }
    if (match >= 0 && best > iou_threshold && !taken[match]) {
      taken[match] = true;
      out.matches.push_back({pred.score, true, centre_distance(pred, c.truths[match]),
                             1.0 - core::aligned_iou(c.truths[match].box, pred.box), c.prediction_file_position, p});
      continue;
    }
    bool ignored = false;
    for (std::size_t t = 0; t < c.truths.size() && !ignored; ++t)
      ignored = within_ignore_radius(c, pred, t) ||
                (c.truths[t].ignore && core::iou(pred.box, c.truths[t].box) > iou_threshold);
    if (ignored) {
      ++out.ignored_predictions;
    } else {
      out.matches.push_back({pred.score, false, 0, 0, c.prediction_file_position, p});
    }
  }
  return out;
}

DistanceCurve accumulate_distance(const std::vector<const CaseMatches*>& cases, double threshold_mm) {
  int npos = 0;
  const std::vector<RankedMatch> ranked = merge_ranked(cases, npos, true);
  return accumulate_distance_ranked(ranked, npos, threshold_mm);
}

DistanceCurve accumulate_distance_ranked(const std::vector<RankedMatch>& ranked, int npos, double threshold_mm) {
  DistanceCurve curve;
  curve.threshold = threshold_mm;
  curve.num_truths = npos;
  curve.recall = recall_points_101();
  const std::size_t n_points = curve.recall.size();
  curve.precision.assign(n_points, 0.0);
  curve.confidence.assign(n_points, 0.0);
  curve.trans_err.assign(n_points, 1.0);
  curve.scale_err.assign(n_points, 1.0);
  for (const auto& m : ranked) (m.tp ? curve.num_tp : curve.num_fp) += 1;
  if (npos == 0) return curve;  // ap, ate, ase stay -1
  if (curve.num_tp == 0) {      // the devkit's "no predictions": precision 0, errors undefined
    curve.ap = 0.0;
    return curve;
  }
  std::vector<double> rec, prec, conf, tp_conf, tp_trans_mean, tp_scale_mean;
  double tp = 0, fp = 0, trans_sum = 0, scale_sum = 0;
  for (const auto& m : ranked) {
    (m.tp ? tp : fp) += 1;
    rec.push_back(tp / npos);
    prec.push_back(tp / (tp + fp));
    conf.push_back(m.score);
    if (m.tp) {
      trans_sum += m.trans_err;
      scale_sum += m.scale_err;
      tp_conf.push_back(m.score);
      tp_trans_mean.push_back(trans_sum / tp);
      tp_scale_mean.push_back(scale_sum / tp);
    }
  }
  for (std::size_t i = 0; i < n_points; ++i) {
    curve.precision[i] = interp(curve.recall[i], rec, prec, prec.front(), 0.0);
    curve.confidence[i] = interp(curve.recall[i], rec, conf, conf.front(), 0.0);
  }
  // The devkit interpolates the running TP errors over confidence, reversed so that it increases.
  std::reverse(tp_conf.begin(), tp_conf.end());
  std::reverse(tp_trans_mean.begin(), tp_trans_mean.end());
  std::reverse(tp_scale_mean.begin(), tp_scale_mean.end());
  for (std::size_t i = 0; i < n_points; ++i) {
    curve.trans_err[i] = interp(curve.confidence[i], tp_conf, tp_trans_mean);
    curve.scale_err[i] = interp(curve.confidence[i], tp_conf, tp_scale_mean);
  }
  const std::size_t first = 11;  // round(100 * min_recall) + 1 with min_recall 0.1
  double ap_sum = 0;
  for (std::size_t i = first; i < n_points; ++i) ap_sum += std::max(curve.precision[i] - 0.1, 0.0);
  curve.ap = ap_sum / static_cast<double>(n_points - first) / 0.9;
  std::size_t last = 0;  // last index with non-zero confidence = max recall reached
  for (std::size_t i = 0; i < n_points; ++i)
    if (curve.confidence[i] != 0) last = i;
  if (last >= first) {
    double t_sum = 0, s_sum = 0;
    for (std::size_t i = first; i <= last; ++i) t_sum += curve.trans_err[i], s_sum += curve.scale_err[i];
    curve.ate_mm = t_sum / static_cast<double>(last - first + 1);
    curve.ase = s_sum / static_cast<double>(last - first + 1);
  }
  return curve;
}

IouCurve accumulate_iou(const std::vector<const CaseMatches*>& cases, double iou_threshold) {
  IouCurve curve;
  curve.threshold = iou_threshold;
  int npos = 0;
  const std::vector<RankedMatch> ranked = merge_ranked(cases, npos, false);
  curve.num_truths = npos;
  double tp = 0, fp = 0;
  for (const auto& m : ranked) {
    (m.tp ? tp : fp) += 1;
    curve.recall.push_back(npos > 0 ? tp / npos : 0.0);
    curve.precision.push_back(tp / std::max(tp + fp, std::numeric_limits<double>::epsilon()));
  }
  curve.num_tp = static_cast<int>(tp);
  curve.num_fp = static_cast<int>(fp);
  if (npos == 0) return curve;
  // mmdet's average_precision(mode="area"): pad with (0, 0) and (1, 0), envelope, sum over recall steps.
  std::vector<double> mrec = {0.0}, mpre = {0.0};
  mrec.insert(mrec.end(), curve.recall.begin(), curve.recall.end());
  mpre.insert(mpre.end(), curve.precision.begin(), curve.precision.end());
  mrec.push_back(1.0);
  mpre.push_back(0.0);
  for (std::size_t i = mpre.size() - 1; i > 0; --i) mpre[i - 1] = std::max(mpre[i - 1], mpre[i]);
  double ap = 0;
  for (std::size_t i = 0; i + 1 < mrec.size(); ++i)
    if (mrec[i + 1] != mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  curve.ap = ap;
  return curve;
}

double detection_score(double map, double ate_mm, double ase, double tp_threshold_mm) {
  if (map < 0) return -1;
  const double ate_term = ate_mm < 0 ? 0.0 : 1.0 - std::min(1.0, ate_mm / tp_threshold_mm);
  const double ase_term = ase < 0 ? 0.0 : 1.0 - ase;
  return (5 * map + ate_term + ase_term) / 7;
}

}  // namespace xraylift::eval
