#include "xraylift/eval/evaluate3d.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "eval_test_cases.hpp"
#include "xraylift/core/error.hpp"

using namespace xraylift;
using namespace xraylift::eval::testcases;

namespace {

// ---- Brute-force reference: global O(n^2) scans, no per-case decomposition, no shared helpers. ----
struct Pred {
  std::size_t c, p;
  double score;
};

std::vector<Pred> ranked_predictions(const std::vector<eval::EvalCase>& cases) {
  std::vector<Pred> all;
  for (std::size_t c = 0; c < cases.size(); ++c)
    for (std::size_t p = 0; p < cases[c].predictions.size(); ++p) all.push_back({c, p, cases[c].predictions[p].score});
  std::stable_sort(all.begin(), all.end(), [](const Pred& a, const Pred& b) { return a.score > b.score; });
  return all;
}

// The nuScenes devkit's order: every prediction numbered in file order (cases in list order here), then
// sorted((score, index))[::-1]: descending score, tied scores in descending file index.
std::vector<Pred> devkit_ranked_predictions(const std::vector<eval::EvalCase>& cases) {
  std::vector<std::pair<std::pair<double, std::size_t>, Pred>> keyed;
  for (std::size_t c = 0; c < cases.size(); ++c)
    for (std::size_t p = 0; p < cases[c].predictions.size(); ++p)
      keyed.push_back({{cases[c].predictions[p].score, keyed.size()}, {c, p, cases[c].predictions[p].score}});
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Pred> all;
  for (auto it = keyed.rbegin(); it != keyed.rend(); ++it) all.push_back(it->second);
  return all;
}

double dist(const core::BoxRecord& a, const core::BoxRecord& b) {
  const double dx = a.box.center.x() - b.box.center.x(), dy = a.box.center.y() - b.box.center.y(),
               dz = a.box.center.z() - b.box.center.z();
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

// numpy.interp written out as a walk over the segments.
double np_interp(double x, const std::vector<double>& xp, const std::vector<double>& fp, double left, double right) {
  if (xp.empty() || x < xp[0]) return left;
  if (x > xp.back()) return right;
  std::size_t j = 0;
  while (j + 1 < xp.size() && xp[j + 1] <= x) ++j;
  if (j + 1 == xp.size() || xp[j] == x) return fp[j];
  return fp[j] + (fp[j + 1] - fp[j]) * (x - xp[j]) / (xp[j + 1] - xp[j]);
}

double reference_cpm(const std::vector<eval::EvalCase>& cases) {
  // Classify every prediction against every truth of every case.
  struct Entry {
    double score;
    bool hit;
  };
  std::vector<Entry> entries;
  int total = 0;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const auto& cs = cases[c];
    std::vector<int> role(cs.predictions.size(), 0);  // 0 FP, 1 counted hit, 2 dropped
    for (const auto& t : cs.truths) {
      const double r = 0.5 * t.diameter();
      if (!t.ignore) ++total;
      int best = -1;
      for (std::size_t p = 0; p < cs.predictions.size(); ++p) {
        if (dist(cs.predictions[p], t) >= r) continue;
        if (t.ignore) {
          if (role[p] == 0) role[p] = 2;
        } else if (best < 0 || cs.predictions[p].score > cs.predictions[best].score) {
          best = static_cast<int>(p);
        }
      }
      for (std::size_t p = 0; p < cs.predictions.size() && !t.ignore; ++p)
        if (dist(cs.predictions[p], t) < r && role[p] != 1) role[p] = 2;
      if (best >= 0) {
        role[best] = 1;
        entries.push_back({cs.predictions[best].score, true});
      }
    }
    for (std::size_t p = 0; p < cs.predictions.size(); ++p)
      if (role[p] == 0) entries.push_back({cs.predictions[p].score, false});
  }
  if (total == 0) return -1;
  std::vector<double> thresholds;
  for (const auto& e : entries) thresholds.push_back(e.score);
  std::sort(thresholds.rbegin(), thresholds.rend());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  std::vector<double> fps = {0}, sens = {0};
  for (double t : thresholds) {
    int tp = 0, fp = 0;
    for (const auto& e : entries)
      if (e.score >= t) (e.hit ? tp : fp)++;
    fps.push_back(double(fp) / cases.size());
    sens.push_back(double(tp) / total);
  }
  double sum = 0;
  for (double rate : {0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0})
    sum += np_interp(rate, fps, sens, sens.front(), sens.back());
  return sum / 7;
}

struct RefDistance {
  double ap, ate;
};

// th in mm, or (relative) a fraction of each truth's radius.
RefDistance reference_distance(const std::vector<eval::EvalCase>& cases, double th, bool relative = false) {
  const auto limit = [&](const core::BoxRecord& t) { return relative ? th * 0.5 * t.diameter() : th; };
  std::vector<std::vector<bool>> taken(cases.size());
  for (std::size_t c = 0; c < cases.size(); ++c) taken[c].assign(cases[c].truths.size(), false);
  int npos = 0;
  for (const auto& c : cases)
    for (const auto& t : c.truths) npos += t.ignore ? 0 : 1;
  std::vector<double> rec, prec, conf, tp_conf, tp_err;
  int tp = 0, fp = 0;
  double err_sum = 0;
  for (const Pred& pr : devkit_ranked_predictions(cases)) {
    const auto& p = cases[pr.c].predictions[pr.p];
    double best = 1e300;
    int m = -1;
    for (std::size_t c = 0; c < cases.size(); ++c)
      for (std::size_t t = 0; t < cases[c].truths.size(); ++t)
        if (c == pr.c && !cases[c].truths[t].ignore && !taken[c][t] && dist(p, cases[c].truths[t]) < best)
          best = dist(p, cases[c].truths[t]), m = static_cast<int>(t);
    if (m >= 0 && best < limit(cases[pr.c].truths[m])) {
      taken[pr.c][m] = true;
      ++tp;
      err_sum += best;
      tp_conf.insert(tp_conf.begin(), p.score);
      tp_err.insert(tp_err.begin(), err_sum / tp);
    } else {
      bool ignored = false;
      for (const auto& t : cases[pr.c].truths)
        ignored = ignored || (t.ignore && (dist(p, t) < 0.5 * t.diameter() || dist(p, t) < limit(t)));
      if (ignored) continue;
      ++fp;
    }
    rec.push_back(double(tp) / npos);
    prec.push_back(double(tp) / (tp + fp));
    conf.push_back(p.score);
  }
  if (tp == 0) return {0.0, -1};
  double ap = 0, ate = 0;
  int last = 0;
  std::vector<double> c101(101);
  for (int i = 0; i <= 100; ++i) {
    c101[i] = np_interp(i * 0.01, rec, conf, conf[0], 0.0);
    if (c101[i] != 0) last = i;
  }
  for (int i = 11; i <= 100; ++i) ap += std::max(np_interp(i * 0.01, rec, prec, prec[0], 0.0) - 0.1, 0.0);
  for (int i = 11; i <= last; ++i) ate += np_interp(c101[i], tp_conf, tp_err, tp_err.front(), tp_err.back());
  return {ap / 90 / 0.9, last >= 11 ? ate / (last - 10) : -1};
}

double reference_iou_ap(const std::vector<eval::EvalCase>& cases, double th) {
  std::vector<std::vector<bool>> taken(cases.size());
  int npos = 0;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    taken[c].assign(cases[c].truths.size(), false);
    for (const auto& t : cases[c].truths) npos += t.ignore ? 0 : 1;
  }
  std::vector<double> rec, prec;
  int tp = 0, fp = 0;
  for (const Pred& pr : ranked_predictions(cases)) {
    const auto& p = cases[pr.c].predictions[pr.p];
    double best = -1;
    int m = -1;
    for (std::size_t t = 0; t < cases[pr.c].truths.size(); ++t) {
      if (cases[pr.c].truths[t].ignore) continue;
      const double v = core::iou(p.box, cases[pr.c].truths[t].box);
      if (v > best) best = v, m = static_cast<int>(t);
    }
    if (m >= 0 && best > th && !taken[pr.c][m]) {
      taken[pr.c][m] = true;
      ++tp;
    } else {
      bool ignored = false;
      for (const auto& t : cases[pr.c].truths)
        ignored = ignored || (t.ignore && (dist(p, t) < 0.5 * t.diameter() || core::iou(p.box, t.box) > th));
      if (ignored) continue;
      ++fp;
    }
    rec.push_back(double(tp) / npos);
    prec.push_back(double(tp) / (tp + fp));
  }
  // Area under the interpolated PR curve: for each recall step, the best precision at or beyond it.
  double ap = 0, prev_r = 0;
  for (std::size_t k = 0; k < rec.size(); ++k) {
    if (rec[k] == prev_r) continue;
    double best = 0;
    for (std::size_t j = k; j < rec.size(); ++j) best = std::max(best, prec[j]);
    ap += (rec[k] - prev_r) * best;
    prev_r = rec[k];
  }
  return ap;
}

std::vector<eval::EvalCase> random_cases(unsigned seed, int n_cases) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> pos(-150, 150), diam(2, 30), unit(0, 1), jitter(-1, 1);
  std::vector<eval::EvalCase> cases;
  for (int c = 0; c < n_cases; ++c) {
    eval::EvalCase ec{"case" + std::to_string(c), {}, {}};
    const int n_truth = static_cast<int>(unit(rng) * 8);
    for (int t = 0; t < n_truth; ++t) {
      auto truth = sphere(pos(rng), pos(rng), pos(rng), diam(rng), 1.0, unit(rng) < 0.15);
      truth.box.size.z() *= 0.7 + 0.6 * unit(rng);
      ec.truths.push_back(truth);
      const int copies = unit(rng) < 0.75 ? 1 + (unit(rng) < 0.25) : 0;
      for (int k = 0; k < copies; ++k) {
        const double spread = truth.diameter() * 0.4;
        auto p = sphere(truth.box.center.x() + spread * jitter(rng), truth.box.center.y() + spread * jitter(rng),
                        truth.box.center.z() + spread * jitter(rng), truth.diameter() * (0.8 + 0.4 * unit(rng)),
                        std::round(unit(rng) * 50) / 50);  // coarse scores: ties happen
        ec.predictions.push_back(p);
      }
    }
    const int n_fp = static_cast<int>(unit(rng) * 6);
    for (int k = 0; k < n_fp; ++k)
      ec.predictions.push_back(sphere(pos(rng), pos(rng), pos(rng), diam(rng), std::round(unit(rng) * 40) / 50));
    cases.push_back(ec);
  }
  return cases;
}

eval::Eval3DOptions quick() {
  eval::Eval3DOptions o;
  o.bootstrap_samples = 0;
  o.breakdowns = false;
  return o;
}

}  // namespace

TEST(Evaluate3D, AgreesWithBruteForceOnRandomSets) {
  for (unsigned seed : {1u, 2u, 3u, 4u}) {
    const auto cases = random_cases(seed, 60);
    ASSERT_GT(eval::count_predictions(cases), 150);
    ASSERT_GT(eval::count_truths(cases, false), 150);
    const auto r = eval::evaluate_3d(cases, quick());
    EXPECT_NEAR(r.overall.froc.cpm, reference_cpm(cases), 1e-12) << "seed " << seed;
    for (const auto& d : r.overall.distance) {
      const auto ref = reference_distance(cases, d.threshold);
      EXPECT_NEAR(d.ap, ref.ap, 1e-12) << "seed " << seed << " threshold " << d.threshold;
      EXPECT_NEAR(d.ate_mm, ref.ate, 1e-9) << "seed " << seed << " threshold " << d.threshold;
    }
    for (const auto& c : r.overall.iou)
      EXPECT_NEAR(c.ap, reference_iou_ap(cases, c.threshold), 1e-12) << "seed " << seed << " IoU " << c.threshold;
    ASSERT_EQ(r.overall.relative.size(), 2u);
    for (const auto& d : r.overall.relative) {
      const auto ref = reference_distance(cases, d.threshold, true);
      EXPECT_NEAR(d.ap, ref.ap, 1e-12) << "seed " << seed << " radius fraction " << d.threshold;
      EXPECT_NEAR(d.ate_mm, ref.ate, 1e-9) << "seed " << seed << " radius fraction " << d.threshold;
    }
    EXPECT_GT(r.overall.froc.cpm, 0.3);
    EXPECT_LT(r.overall.froc.cpm, 0.99);
  }
}

TEST(Evaluate3D, PerfectSetIsOneEverywhere) {
  const auto r = eval::evaluate_3d(predict_truths(three_scans(), 0.0, 0.9), quick());
  EXPECT_DOUBLE_EQ(r.overall.froc.cpm, 1.0);
  EXPECT_DOUBLE_EQ(r.overall.map, 1.0);
  EXPECT_DOUBLE_EQ(r.overall.ate_mm, 0.0);
  EXPECT_DOUBLE_EQ(r.overall.ase, 0.0);
  EXPECT_DOUBLE_EQ(r.overall.score, 1.0);
  for (const auto& c : r.overall.iou) EXPECT_DOUBLE_EQ(c.ap, 1.0);
}

TEST(Evaluate3D, ShiftedSetHasTheShiftAsAte) {
  const auto r = eval::evaluate_3d(predict_truths(three_scans(), 3.0, 0.9), quick());
  EXPECT_DOUBLE_EQ(r.overall.froc.cpm, 1.0);  // 3 mm < the 4 mm radius
  EXPECT_DOUBLE_EQ(r.overall.map, 0.75);      // a miss at 2 mm only
  EXPECT_NEAR(r.overall.ate_mm, 3.0, 1e-12);
  EXPECT_NEAR(r.overall.score, (5 * 0.75 + (1 - 3.0 / 8) + 1) / 7, 1e-12);
  EXPECT_DOUBLE_EQ(r.overall.map_relative, 0.5);  // 3 mm: beyond 0.5 x 4 mm, within 1 x 4 mm
}

TEST(Evaluate3D, EmptyInputs) {
  const auto no_pred = eval::evaluate_3d(three_scans(), quick());
  EXPECT_DOUBLE_EQ(no_pred.overall.froc.cpm, 0.0);
  EXPECT_DOUBLE_EQ(no_pred.overall.map, 0.0);
  EXPECT_DOUBLE_EQ(no_pred.overall.ate_mm, -1.0);
  EXPECT_DOUBLE_EQ(no_pred.overall.score, 0.0);
  const auto nothing = eval::evaluate_3d({}, eval::Eval3DOptions{});
  EXPECT_DOUBLE_EQ(nothing.overall.froc.cpm, -1.0);
  EXPECT_DOUBLE_EQ(nothing.overall.map, -1.0);
  const std::vector<eval::EvalCase> no_truth = {{"s", {}, {sphere(0, 0, 0, 5, 0.4)}}};
  const auto r = eval::evaluate_3d(no_truth, eval::Eval3DOptions{});
  EXPECT_DOUBLE_EQ(r.overall.froc.cpm, -1.0);
  EXPECT_DOUBLE_EQ(r.overall.score, -1.0);
  const auto j = eval::to_json(r, eval::Eval3DOptions{});
  EXPECT_TRUE(j["overall"]["froc"]["cpm"].is_null());
}

TEST(Evaluate3D, BootstrapIntervalsBracketAndRepeat) {
  eval::Eval3DOptions o;
  o.bootstrap_samples = 200;
  o.breakdowns = false;
  const auto cases = random_cases(9, 80);
  const auto a = eval::evaluate_3d(cases, o), b = eval::evaluate_3d(cases, o);
  EXPECT_EQ(a.cpm_ci.lower, b.cpm_ci.lower);  // seeded
  EXPECT_LT(a.cpm_ci.lower, a.overall.froc.cpm);
  EXPECT_GT(a.cpm_ci.upper, a.overall.froc.cpm);
  EXPECT_LT(a.map_ci.lower, a.overall.map);
  EXPECT_GT(a.map_ci.upper, a.overall.map);
  EXPECT_LT(a.cpm_ci.upper - a.cpm_ci.lower, 0.4);
  ASSERT_EQ(a.sensitivity_ci.size(), 7u);
  o.seed = 5;
  EXPECT_NE(eval::evaluate_3d(cases, o).cpm_ci.lower + eval::evaluate_3d(cases, o).cpm_ci.upper,
            a.cpm_ci.lower + a.cpm_ci.upper);
}

TEST(Evaluate3D, BootstrapFastPathEqualsRepeatedCases) {
  auto cases = random_cases(11, 30);
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> unit(0, 1);
  for (auto& c : cases)
    for (auto& p : c.predictions) p.score = unit(rng);  // no ties: repeated copies rank the same either way
  std::vector<int> draws(cases.size());
  std::vector<eval::EvalCase> repeated;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    draws[i] = static_cast<int>(i % 4 == 0 ? 0 : i % 3);
    for (int k = 0; k < draws[i]; ++k) repeated.push_back(cases[i]);
  }
  const auto fast = eval::resample_metrics(cases, draws, quick());
  const auto slow = eval::compute_metrics(repeated, quick());
  EXPECT_NEAR(fast.froc.cpm, slow.froc.cpm, 1e-12);
  EXPECT_NEAR(fast.map, slow.map, 1e-12);
  EXPECT_NEAR(fast.ate_mm, slow.ate_mm, 1e-12);
  EXPECT_NEAR(fast.score, slow.score, 1e-12);
  EXPECT_EQ(fast.froc.num_scans, slow.froc.num_scans);
  const auto ones = eval::resample_metrics(cases, std::vector<int>(cases.size(), 1), quick());
  EXPECT_NEAR(ones.froc.cpm, eval::compute_metrics(cases, quick()).froc.cpm, 1e-12);
}

// Set a misses s3's nodule, set b misses s2's; no false positives, so on a resample with draw counts w1, w2, w3
// CPM(b) - CPM(a) = (w3 - w2) / (2 w1 + w2 + w3), and b is not better exactly when w3 <= w2: 17 of the 27 equally
// likely draws of three scans. Scoring the two sets on separate draws gives 433 of 729 (0.594), and a difference
// taken from the two sets' own intervals cannot produce this share at all.
TEST(Evaluate3D, PairedDifferenceScoresBothSetsOnTheSameResamples) {
  auto a = predict_truths(three_scans(), 0.0, 0.9), b = a;
  a[2].predictions.clear();
  b[1].predictions.clear();
  eval::Eval3DOptions o = quick();
  o.bootstrap_samples = 8000;
  const auto d = eval::paired_difference(a, b, o);
  EXPECT_DOUBLE_EQ(d.cpm_a, 0.75);
  EXPECT_DOUBLE_EQ(d.cpm_b, 0.75);
  EXPECT_DOUBLE_EQ(d.cpm_difference, 0.0);
  EXPECT_EQ(d.bootstrap_samples, 8000);
  EXPECT_EQ(d.defined_samples, 8000);                       // every scan has a nodule
  EXPECT_NEAR(d.cpm_share_not_better, 17.0 / 27.0, 0.016);  // 3 standard errors; the unpaired 0.594 is 6.6 off
  EXPECT_LT(d.cpm_lower, 0.0);
  EXPECT_GT(d.cpm_upper, 0.0);
  // The same set against itself: no difference on any resample.
  const auto same = eval::paired_difference(a, a, o);
  EXPECT_DOUBLE_EQ(same.cpm_lower, 0.0);
  EXPECT_DOUBLE_EQ(same.cpm_upper, 0.0);
  EXPECT_DOUBLE_EQ(same.map_upper, 0.0);
  EXPECT_DOUBLE_EQ(same.cpm_share_not_better, 1.0);
  // A set that finds everything against a: never worse, better whenever s3 is drawn (1 - (2/3)^3 of draws).
  const auto all = predict_truths(three_scans(), 0.0, 0.9);
  const auto up = eval::paired_difference(a, all, o);
  EXPECT_DOUBLE_EQ(up.cpm_difference, 0.25);
  EXPECT_DOUBLE_EQ(up.cpm_lower, 0.0);
  EXPECT_NEAR(up.cpm_share_not_better, 8.0 / 27.0, 0.016);
  EXPECT_GT(up.map_difference, 0.0);
  // Seeded: the same options give the same interval.
  const auto again = eval::paired_difference(a, b, o);
  EXPECT_EQ(again.cpm_lower, d.cpm_lower);
  EXPECT_EQ(again.cpm_share_not_better, d.cpm_share_not_better);
  o.bootstrap_samples = 0;
  const auto point = eval::paired_difference(a, all, o);
  EXPECT_DOUBLE_EQ(point.cpm_difference, 0.25);
  EXPECT_EQ(point.defined_samples, 0);
  EXPECT_FALSE(eval::to_json(point).contains("cpm_difference_ci"));
  EXPECT_EQ(eval::to_json(up)["cpm_difference_ci"][0].get<double>(), 0.0);
}

TEST(Evaluate3D, PairedDifferenceNeedsTheSameScansAndTruths) {
  const auto a = predict_truths(three_scans(), 0.0, 0.9);
  auto fewer = a;
  fewer.pop_back();
  auto renamed = a;
  renamed[1].case_id = "other";
  auto moved_truth = a;
  moved_truth[2].truths[0].box.center.x() += 1;
  const auto o = quick();
  auto message = [&](const std::vector<eval::EvalCase>& b) {
    try {
      eval::paired_difference(a, b, o);
    } catch (const core::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(fewer).find("the first set has 3 cases, the second 2"), std::string::npos) << message(fewer);
  EXPECT_NE(message(renamed).find("case 1 is 's2' in the first set and 'other'"), std::string::npos)
      << message(renamed);
  EXPECT_NE(message(moved_truth).find("case 's3' has different truths"), std::string::npos) << message(moved_truth);
}

TEST(Evaluate3D, PercentileIntervalIsLuna16Rule) {
  std::vector<double> v;
  for (int i = 0; i < 100; ++i) v.push_back(99 - i);
  const auto iv = eval::percentile_interval(v, 0.95);
  EXPECT_DOUBLE_EQ(iv.lower, 2.0);   // floor(0.025 * 100)
  EXPECT_DOUBLE_EQ(iv.upper, 97.0);  // floor(0.975 * 100)
}

TEST(Evaluate3D, BreakdownsBySizeAndReaders) {
  // A 4 mm nodule found, a 12 mm nodule missed (its prediction is 20 mm off).
  eval::EvalCase c{"s", {sphere(0, 0, 0, 4), sphere(60, 0, 0, 12)}, {}};
  c.truths[0].readers = 4;
  c.truths[1].readers = 2;
  c.predictions = {sphere(0, 0, 0, 4, 0.9), sphere(80, 0, 0, 12, 0.8)};
  eval::Eval3DOptions o = quick();
  o.breakdowns = true;
  const auto r = eval::evaluate_3d({c}, o);
  ASSERT_EQ(r.breakdowns.size(), 6u);  // 4 size bins + 2 reader counts
  EXPECT_EQ(r.breakdowns[0].label, "3-6 mm");
  EXPECT_EQ(r.breakdowns[0].metrics.num_truths, 1);
  // The miss is an ignore region in the 3-6 mm bin, but the far prediction is still an FP.
  EXPECT_DOUBLE_EQ(r.breakdowns[0].metrics.froc.sensitivity_at_rates[3], 1.0);
  EXPECT_DOUBLE_EQ(r.breakdowns[2].metrics.froc.sensitivity_at_rates[6], 0.0);  // 10-20 mm: missed
  EXPECT_EQ(r.breakdowns[1].metrics.num_truths, 0);
  EXPECT_DOUBLE_EQ(r.breakdowns[1].metrics.froc.cpm, -1.0);
  EXPECT_EQ(r.breakdowns[4].group, "readers");
  EXPECT_EQ(r.breakdowns[4].label, "2 readers");
  EXPECT_DOUBLE_EQ(r.breakdowns[5].metrics.froc.sensitivity_at_rates[6], 1.0);  // 4 readers: found
}

TEST(Evaluate3D, BreakdownByTextureAndTheTextureFilter) {
  // A solid nodule found, a ground-glass one missed, one of unknown texture found.
  eval::EvalCase c{"s", {sphere(0, 0, 0, 12), sphere(60, 0, 0, 12), sphere(-60, 0, 0, 12)}, {}};
  c.truths[0].texture = "solid";
  c.truths[1].texture = "ground-glass";
  c.predictions = {sphere(0, 0, 0, 12, 0.9), sphere(-60, 0, 0, 12, 0.8)};
  eval::Eval3DOptions o = quick();
  o.breakdowns = true;
  o.size_bins = {};
  auto r = eval::evaluate_3d({c}, o);
  ASSERT_EQ(r.breakdowns.size(), 2u);  // no part-solid truth: no row for it
  EXPECT_EQ(r.breakdowns[0].group, "texture");
  EXPECT_EQ(r.breakdowns[0].label, "solid");
  EXPECT_EQ(r.breakdowns[0].metrics.num_truths, 1);
  EXPECT_DOUBLE_EQ(r.breakdowns[0].metrics.froc.cpm, 1.0);
  EXPECT_EQ(r.breakdowns[1].label, "ground-glass");
  EXPECT_DOUBLE_EQ(r.breakdowns[1].metrics.froc.sensitivity_at_rates[6], 0.0);
  EXPECT_NEAR(r.overall.froc.sensitivity_at_rates[6], 2.0 / 3.0, 1e-12);

  // Counting only solid and part-solid nodules: the ground-glass one becomes an ignore region, the unknown one counts.
  o.truth_filter.textures = {"solid", "part-solid"};
  core::apply_truth_filter(c.truths, o.truth_filter);  // what pair_cases does with the filter
  r = eval::evaluate_3d({c}, o);
  EXPECT_EQ(r.overall.num_truths, 2);
  EXPECT_DOUBLE_EQ(r.overall.froc.sensitivity_at_rates[6], 1.0);
  o.truth_filter.textures = {"opaque"};
  EXPECT_THROW(eval::validate(o), core::ConfigError);
}

TEST(Evaluate3D, OptionsAreValidated) {
  eval::Eval3DOptions o;
  o.tp_threshold_mm = 5;  // not one of the distance thresholds
  EXPECT_THROW(eval::validate(o), core::ConfigError);
  o = {};
  o.distance_thresholds_mm = {-1, 8};
  EXPECT_THROW(eval::validate(o), core::ConfigError);
  o = {};
  o.size_bins = {{6, 3}};
  EXPECT_THROW(eval::validate(o), core::ConfigError);
  o = {};
  o.confidence = 1.5;
  EXPECT_THROW(eval::evaluate_3d({}, o), core::ConfigError);
  EXPECT_NO_THROW(eval::validate(eval::Eval3DOptions{}));
}
