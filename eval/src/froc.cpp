#include "xraylift/eval/froc.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "xraylift/core/error.hpp"
#include "xraylift/eval/numeric.hpp"

namespace xraylift::eval {

std::vector<double> luna16_fp_rates() { return {0.125, 0.25, 0.5, 1, 2, 4, 8}; }

CaseFroc froc_case(const EvalCase& c, const FrocOptions& options) {
  CaseFroc out;
  const std::size_t n = c.predictions.size();
  std::vector<bool> hit_something(n, false), counted_hit(n, false), on_ignore(n, false);
  for (const auto& t : c.truths) {
    const double r2 = std::pow(truth_radius(t), 2);
    int best = -1;
    for (std::size_t p = 0; p < n; ++p) {
      const double d2 = (c.predictions[p].box.center - t.box.center).squaredNorm();
      if (!(d2 < r2)) continue;
      if (t.ignore) {
        on_ignore[p] = true;
        continue;
      }
      hit_something[p] = true;
      if (best < 0 || c.predictions[p].score > c.predictions[best].score) best = static_cast<int>(p);
    }
    if (t.ignore) continue;
    if (best < 0) {
      ++out.missed;
    } else {
      out.hit_scores.push_back(c.predictions[best].score);
      counted_hit[best] = true;
    }
  }
  for (std::size_t p = 0; p < n; ++p) {
    if (counted_hit[p]) continue;
    const bool duplicate = hit_something[p];
    if ((duplicate && !options.duplicates_as_false_positives) || (!duplicate && on_ignore[p])) {
      ++out.ignored_predictions;
    } else {
      out.fp_scores.push_back(c.predictions[p].score);
    }
  }
  return out;
}

FrocCurve froc_curve_sorted(const std::vector<FrocEntry>& entries, int num_truths, int num_scans,
                            const FrocOptions& options) {
  XL_CHECK(!options.fp_rates.empty(), "FROC: no false-positive rates to read sensitivity at");
  for (double r : options.fp_rates) {
    XL_CHECK(std::isfinite(r) && r > 0, "FROC: false-positive rate ", r, ", expected a finite value > 0");
  }
  FrocCurve curve;
  curve.num_scans = num_scans;
  curve.num_truths = num_truths;
  curve.fp_rates = options.fp_rates;
  for (const auto& e : entries) (e.hit ? curve.num_detected : curve.num_false_positives) += 1;
  curve.fps = {0.0};
  curve.sensitivity = {0.0};
  curve.thresholds = {std::numeric_limits<double>::infinity()};
  if (curve.num_truths == 0 || curve.num_scans == 0) {
    curve.sensitivity_at_rates.assign(options.fp_rates.size(), -1.0);
    return curve;
  }
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    (entries[i].hit ? tp : fp) += 1;
    if (i + 1 < entries.size() && entries[i + 1].score == entries[i].score) continue;  // one point per threshold
    curve.fps.push_back(fp / curve.num_scans);
    curve.sensitivity.push_back(tp / curve.num_truths);
    curve.thresholds.push_back(entries[i].score);
  }
  for (double rate : options.fp_rates) curve.sensitivity_at_rates.push_back(interp(rate, curve.fps, curve.sensitivity));
  curve.cpm = std::accumulate(curve.sensitivity_at_rates.begin(), curve.sensitivity_at_rates.end(), 0.0) /
              curve.sensitivity_at_rates.size();
  return curve;
}

FrocCurve froc_curve(const std::vector<const CaseFroc*>& cases, const FrocOptions& options) {
  std::vector<FrocEntry> entries;
  int num_truths = 0;
  for (const CaseFroc* c : cases) {
    num_truths += static_cast<int>(c->hit_scores.size()) + c->missed;
    for (double s : c->hit_scores) entries.push_back({s, true});
    for (double s : c->fp_scores) entries.push_back({s, false});
  }
  std::sort(entries.begin(), entries.end(), [](const FrocEntry& a, const FrocEntry& b) { return a.score > b.score; });
  return froc_curve_sorted(entries, num_truths, static_cast<int>(cases.size()), options);
}

FrocCurve froc_curve(const std::vector<CaseFroc>& cases, const FrocOptions& options) {
  std::vector<const CaseFroc*> ptrs;
  for (const auto& c : cases) ptrs.push_back(&c);
  return froc_curve(ptrs, options);
}

}  // namespace xraylift::eval
