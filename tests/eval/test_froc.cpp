#include "xraylift/eval/froc.hpp"

#include <gtest/gtest.h>

#include "eval_test_cases.hpp"
#include "xraylift/core/error.hpp"

using namespace xraylift;
using namespace xraylift::eval::testcases;

TEST(Froc, Luna16WorkedExample) {
  // Two scans, three nodules: hits scored .9 and .4, one missed; FPs .8, .6, .3, .3.
  // LUNA16: sklearn roc_curve over the candidates (two positives, four negatives) gives
  // fpr = fp / 4, tpr = tp / 2; fps = fpr * (6 - 2) / 2 scans = fp / 2; sens = tpr * 2 / 3 = tp / 3:
  //   threshold  inf   .9    .8    .6    .4    .3
  //   fps        0     0     .5    1     1     2
  //   sens       0     1/3   1/3   1/3   2/3   2/3
  // np.interp at 1/8, 1/4, 1/2 -> 1/3; at 1 (two points at fps 1) -> the last, 2/3; at 2, 4, 8 -> 2/3.
  // CPM = (3 * 1/3 + 4 * 2/3) / 7 = 11/21.
  eval::CaseFroc a, b;
  a.hit_scores = {0.9};
  a.fp_scores = {0.8, 0.3};
  b.hit_scores = {0.4};
  b.missed = 1;
  b.fp_scores = {0.6, 0.3};
  const auto curve = eval::froc_curve(std::vector<eval::CaseFroc>{a, b});
  const std::vector<double> fps = {0, 0, 0.5, 1, 1, 2}, sens = {0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3};
  ASSERT_EQ(curve.fps.size(), fps.size());
  for (std::size_t i = 0; i < fps.size(); ++i) {
    EXPECT_DOUBLE_EQ(curve.fps[i], fps[i]) << i;
    EXPECT_DOUBLE_EQ(curve.sensitivity[i], sens[i]) << i;
  }
  const std::vector<double> at = {1.0 / 3, 1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3};
  for (std::size_t i = 0; i < at.size(); ++i) EXPECT_DOUBLE_EQ(curve.sensitivity_at_rates[i], at[i]) << i;
  EXPECT_NEAR(curve.cpm, 11.0 / 21.0, 1e-12);
  EXPECT_EQ(curve.num_truths, 3);
  EXPECT_EQ(curve.num_detected, 2);
  EXPECT_EQ(curve.num_false_positives, 4);
}

TEST(Froc, InterpolatesBetweenOperatingPoints) {
  // One scan: FP .9, hit .5 -> points (0,0) (1,0) (1,1): sens 0 below 1 FP/scan; one hit in 2 truths.
  eval::CaseFroc c;
  c.fp_scores = {0.9};
  c.hit_scores = {0.5};
  c.missed = 1;
  eval::FrocOptions o;
  o.fp_rates = {0.5, 1, 2};
  const auto curve = eval::froc_curve(std::vector<eval::CaseFroc>{c}, o);
  EXPECT_DOUBLE_EQ(curve.sensitivity_at_rates[0], 0.0);
  EXPECT_DOUBLE_EQ(curve.sensitivity_at_rates[1], 0.5);
  // A second, empty scan halves fps: points (0,0) (.5,0) (.5,.5) -> .5 at 0.5 FP/scan, 0 at 0.25.
  const auto two = eval::froc_curve(std::vector<eval::CaseFroc>{c, eval::CaseFroc{}}, o);
  EXPECT_DOUBLE_EQ(two.sensitivity_at_rates[0], 0.5);
  o.fp_rates = {0.25};
  EXPECT_DOUBLE_EQ(eval::froc_curve(std::vector<eval::CaseFroc>{c, eval::CaseFroc{}}, o).sensitivity_at_rates[0], 0.0);
}

TEST(Froc, CaseRulesHitsDuplicatesIgnore) {
  eval::EvalCase c{"s", {sphere(0, 0, 0, 10), sphere(40, 0, 0, 10), sphere(-40, 0, 0, 10, 1, true)}, {}};
  c.predictions = {sphere(1, 0, 0, 5, 0.7),     // hit on the first
                   sphere(0, 2, 0, 5, 0.9),     // better hit on the first
                   sphere(45, 0, 0, 5, 0.8),    // exactly on the radius: not a hit (strict <), an FP
                   sphere(-41, 0, 0, 5, 0.95),  // on the ignore region: dropped
                   sphere(0, 90, 0, 5, 0.2)};   // FP
  const auto luna = eval::froc_case(c);
  ASSERT_EQ(luna.hit_scores.size(), 1u);
  EXPECT_DOUBLE_EQ(luna.hit_scores[0], 0.9);
  EXPECT_EQ(luna.missed, 1);
  EXPECT_EQ(luna.fp_scores, (std::vector<double>{0.8, 0.2}));
  EXPECT_EQ(luna.ignored_predictions, 2);  // the duplicate and the one on the ignore region
  eval::FrocOptions dup;
  dup.duplicates_as_false_positives = true;
  const auto strict = eval::froc_case(c, dup);
  EXPECT_EQ(strict.fp_scores, (std::vector<double>{0.7, 0.8, 0.2}));
  EXPECT_EQ(strict.ignored_predictions, 1);
}

TEST(Froc, OnePredictionMayHitTwoOverlappingNodules) {
  eval::EvalCase c{"s", {sphere(0, 0, 0, 10), sphere(3, 0, 0, 10)}, {sphere(1.5, 0, 0, 5, 0.6)}};
  const auto r = eval::froc_case(c);
  EXPECT_EQ(r.hit_scores, (std::vector<double>{0.6, 0.6}));
  EXPECT_TRUE(r.fp_scores.empty());
}

TEST(Froc, EmptyCases) {
  eval::EvalCase no_pred{"s", {sphere(0, 0, 0, 10)}, {}};
  const auto miss = eval::froc_curve(std::vector<eval::CaseFroc>{eval::froc_case(no_pred)});
  EXPECT_DOUBLE_EQ(miss.cpm, 0.0);
  eval::EvalCase no_truth{"s", {}, {sphere(0, 0, 0, 10, 0.5)}};
  const auto undefined = eval::froc_curve(std::vector<eval::CaseFroc>{eval::froc_case(no_truth)});
  EXPECT_DOUBLE_EQ(undefined.cpm, -1.0);
  EXPECT_EQ(undefined.num_false_positives, 1);
  EXPECT_DOUBLE_EQ(eval::froc_curve(std::vector<eval::CaseFroc>{}).cpm, -1.0);
  eval::FrocOptions bad;
  bad.fp_rates = {0};
  EXPECT_THROW(eval::froc_curve(std::vector<eval::CaseFroc>{}, bad), core::InputError);
}
