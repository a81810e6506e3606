#include "xraylift/eval/detection3d.hpp"

#include <gtest/gtest.h>

#include "eval_test_cases.hpp"
#include "xraylift/core/error.hpp"

using namespace xraylift;
using namespace xraylift::eval::testcases;

namespace {

std::vector<const eval::CaseMatches*> ptrs(const std::vector<eval::CaseMatches>& v) {
  std::vector<const eval::CaseMatches*> out;
  for (const auto& m : v) out.push_back(&m);
  return out;
}

eval::DistanceCurve distance_curve(const std::vector<eval::EvalCase>& cases, double t) {
  std::vector<eval::CaseMatches> m;
  for (const auto& c : cases) m.push_back(eval::match_by_distance(c, t));
  return eval::accumulate_distance(ptrs(m), t);
}

eval::IouCurve iou_curve(const std::vector<eval::EvalCase>& cases, double t) {
  std::vector<eval::CaseMatches> m;
  for (const auto& c : cases) m.push_back(eval::match_by_iou(c, t));
  return eval::accumulate_iou(ptrs(m), t);
}

// One scan, two nodules; ranked: TP (.9), duplicate (.8), TP (.7).
std::vector<eval::EvalCase> duplicate_case() {
  eval::EvalCase c{"s", {sphere(0, 0, 0, 8), sphere(50, 0, 0, 8)}, {}};
  c.predictions = {sphere(0.5, 0, 0, 8, 0.9), sphere(-0.5, 0, 0, 8, 0.8), sphere(50.5, 0, 0, 8, 0.7)};
  return {c};
}

}  // namespace

TEST(Detection3D, PerfectPredictionsScoreOne) {
  const auto cases = predict_truths(three_scans(), 0.0, 0.9);
  for (double t : {2.0, 4.0, 8.0, 16.0}) {
    const auto d = distance_curve(cases, t);
    EXPECT_DOUBLE_EQ(d.ap, 1.0) << t;
    EXPECT_DOUBLE_EQ(d.ate_mm, 0.0) << t;
    EXPECT_DOUBLE_EQ(d.ase, 0.0) << t;
  }
  EXPECT_DOUBLE_EQ(iou_curve(cases, 0.25).ap, 1.0);
  EXPECT_DOUBLE_EQ(eval::detection_score(1.0, 0.0, 0.0, 8.0), 1.0);
}

TEST(Detection3D, ShiftGivesItsTranslationError) {
  const auto cases = predict_truths(three_scans(), 3.0, 0.9);
  EXPECT_DOUBLE_EQ(distance_curve(cases, 2.0).ap, 0.0);       // 3 mm > 2 mm: all false positives
  EXPECT_DOUBLE_EQ(distance_curve(cases, 2.0).ate_mm, -1.0);  // no TP: undefined
  const auto d8 = distance_curve(cases, 8.0);
  EXPECT_DOUBLE_EQ(d8.ap, 1.0);
  EXPECT_NEAR(d8.ate_mm, 3.0, 1e-12);
  EXPECT_NEAR(d8.ase, 0.0, 1e-12);  // same size: aligned IoU 1
  // 8 mm cubes shifted 3 mm along x: IoU = 5/11 > 0.25 but < 0.5.
  EXPECT_DOUBLE_EQ(iou_curve(cases, 0.25).ap, 1.0);
  EXPECT_DOUBLE_EQ(iou_curve(cases, 0.5).ap, 0.0);
  const double score = (5 * 0.75 + (1 - 3.0 / 8.0) + 1.0) / 7.0;
  EXPECT_NEAR(eval::detection_score(0.75, 3.0, 0.0, 8.0), score, 1e-12);
}

TEST(Detection3D, RadiusRelativeThresholds) {
  // 8 mm nodules (radius 4) shifted 3 mm: a miss below 0.75 x radius, a hit above.
  const auto cases = predict_truths(three_scans(), 3.0, 0.9);
  std::vector<eval::CaseMatches> half, full;
  for (const auto& c : cases) {
    half.push_back(eval::match_by_relative_distance(c, 0.5));
    full.push_back(eval::match_by_relative_distance(c, 1.0));
  }
  EXPECT_DOUBLE_EQ(eval::accumulate_distance(ptrs(half), 0.5).ap, 0.0);
  const auto hit = eval::accumulate_distance(ptrs(full), 1.0);
  EXPECT_DOUBLE_EQ(hit.ap, 1.0);
  EXPECT_NEAR(hit.ate_mm, 3.0, 1e-12);
  // A 20 mm nodule (radius 10) tolerates the same 3 mm shift at 0.5 x radius.
  eval::EvalCase big{"b", {sphere(0, 0, 0, 20)}, {sphere(3, 0, 0, 20, 0.8)}};
  EXPECT_EQ(eval::match_by_relative_distance(big, 0.5).matches[0].tp, true);
  EXPECT_THROW(eval::match_by_relative_distance(big, 0.0), core::InputError);
}

TEST(Detection3D, ScaleErrorIsOneMinusAlignedIou) {
  auto cases = predict_truths(three_scans(), 0.0, 0.9);
  for (auto& c : cases)
    for (auto& p : c.predictions) p.box.size *= 2;  // aligned IoU = 1/8
  EXPECT_NEAR(distance_curve(cases, 8.0).ase, 1.0 - 1.0 / 8.0, 1e-12);
}

TEST(Detection3D, DuplicatesAreFalsePositivesHandComputed) {
  // recall .5 .5 1, precision 1 .5 2/3; numpy.interp at r: 1 below .5, .5 at r = .5 (last of the tie),
  // .5 + (r - .5) / 3 above. AP = sum_{i=11..100} max(p_i - .1, 0) / 90 / .9.
  double sum = 0;
  for (int i = 11; i <= 100; ++i) {
    const double r = i * 0.01;
    const double p = r < 0.5 ? 1.0 : (i == 50 ? 0.5 : 0.5 + (r - 0.5) / 3.0);
    sum += p - 0.1;
  }
  const auto d = distance_curve(duplicate_case(), 8.0);
  EXPECT_NEAR(d.ap, sum / 90 / 0.9, 1e-12);
  EXPECT_NEAR(d.ap, 59.75 / 81.0, 1e-12);
  EXPECT_EQ(d.num_tp, 2);
  EXPECT_EQ(d.num_fp, 1);
  // ATE: running mean of TP errors .5, .5 -> 0.5 everywhere.
  EXPECT_NEAR(d.ate_mm, 0.5, 1e-12);
  // MMDet3D area AP: envelope 1 up to recall .5, 2/3 after -> .5 + .5 * 2/3.
  EXPECT_NEAR(iou_curve(duplicate_case(), 0.25).ap, 0.5 + 0.5 * 2.0 / 3.0, 1e-12);
}

// nuscenes-devkit accumulate(): sortind = [i for (v, i) in sorted((v, i) for (i, v) in enumerate(confs))][::-1],
// so tied scores are processed last-in-the-file first, inside a case and across cases.
TEST(Detection3D, TiedScoresRankAsTheDevkit) {
  // One truth, two predictions tied at 0.5: the second (3 mm off) is matched first, the first (1 mm off) is
  // then a false positive. A stable order would match the 1 mm one instead (ATE 1).
  eval::EvalCase one{"s", {sphere(0, 0, 0, 8)}, {sphere(1, 0, 0, 8, 0.5), sphere(3, 0, 0, 8, 0.5)}};
  const auto m = eval::match_by_distance(one, 4.0);
  ASSERT_EQ(m.matches.size(), 2u);
  EXPECT_TRUE(m.matches[0].tp);
  EXPECT_DOUBLE_EQ(m.matches[0].trans_err, 3.0);
  EXPECT_FALSE(m.matches[1].tp);
  EXPECT_DOUBLE_EQ(distance_curve({one}, 4.0).ate_mm, 3.0);

  // Across cases: s1 (file position 0) has a TP at .9 and an FP at .5; s2 (position 1) a TP at .5. Devkit order
  // TP(.9), TP(s2, .5), FP(s1, .5): recall .5 1 1, precision 1 1 2/3, so precision is 1 up to recall 1 and
  // numpy.interp gives 2/3 at recall 1 (the last of the tie). Case order would put the FP first (lower AP).
  eval::EvalCase s1{"s1", {sphere(0, 0, 0, 8)}, {sphere(0, 0, 0, 8, 0.9), sphere(90, 0, 0, 8, 0.5)}};
  eval::EvalCase s2{"s2", {sphere(0, 0, 0, 8)}, {sphere(0.5, 0, 0, 8, 0.5)}};
  const double expected = (89 * 0.9 + (2.0 / 3.0 - 0.1)) / 90 / 0.9;
  EXPECT_NEAR(distance_curve({s1, s2}, 8.0).ap, expected, 1e-12);
  // The prediction file's order decides, not the truth file's: s2 first in the file puts s1's FP first.
  s1.prediction_file_position = 1;
  s2.prediction_file_position = 0;
  EXPECT_LT(distance_curve({s1, s2}, 8.0).ap, expected - 0.01);
}

TEST(Detection3D, PredictionOnIgnoreRegionChangesNothing) {
  auto base = duplicate_case();
  auto with_ignore = base;
  with_ignore[0].truths.push_back(sphere(-60, 0, 0, 4, 1.0, true));
  with_ignore[0].predictions.push_back(sphere(-60.5, 0, 0, 4, 0.95));
  for (double t : {2.0, 8.0}) {
    const auto a = distance_curve(base, t), b = distance_curve(with_ignore, t);
    EXPECT_EQ(a.precision, b.precision);
    EXPECT_DOUBLE_EQ(a.ap, b.ap);
    EXPECT_DOUBLE_EQ(a.ate_mm, b.ate_mm);
    EXPECT_EQ(a.num_fp, b.num_fp);
  }
  EXPECT_EQ(eval::match_by_distance(with_ignore[0], 8.0).ignored_predictions, 1);
  EXPECT_DOUBLE_EQ(iou_curve(base, 0.1).ap, iou_curve(with_ignore, 0.1).ap);
  // Without the ignore flag the same prediction is a false positive and AP drops.
  with_ignore[0].truths.pop_back();
  EXPECT_LT(distance_curve(with_ignore, 8.0).ap, distance_curve(base, 8.0).ap);
}

TEST(Detection3D, EmptyPredictionsAndEmptyTruth) {
  const auto no_pred = distance_curve(three_scans(), 8.0);
  EXPECT_DOUBLE_EQ(no_pred.ap, 0.0);
  EXPECT_DOUBLE_EQ(no_pred.ate_mm, -1.0);
  EXPECT_DOUBLE_EQ(eval::detection_score(0.0, -1, -1, 8.0), 0.0);
  EXPECT_DOUBLE_EQ(iou_curve(three_scans(), 0.1).ap, 0.0);
  std::vector<eval::EvalCase> no_truth = {{"s", {}, {sphere(0, 0, 0, 5, 0.5)}}};
  EXPECT_DOUBLE_EQ(distance_curve(no_truth, 8.0).ap, -1.0);
  EXPECT_EQ(distance_curve(no_truth, 8.0).num_fp, 1);
  EXPECT_DOUBLE_EQ(iou_curve(no_truth, 0.1).ap, -1.0);
  EXPECT_DOUBLE_EQ(eval::detection_score(-1, -1, -1, 8.0), -1.0);
  EXPECT_DOUBLE_EQ(distance_curve({}, 8.0).ap, -1.0);
  EXPECT_THROW(eval::match_by_distance(no_truth[0], 0.0), core::InputError);
  EXPECT_THROW(eval::match_by_iou(no_truth[0], 1.0), core::InputError);
}

TEST(Detection3D, LowRecallLeavesTpErrorsUndefined) {
  // 20 nodules, one found: max recall .05 < .1 -> the devkit's TP metrics have no recall bins.
  eval::EvalCase c{"s", {}, {}};
  for (int i = 0; i < 20; ++i) c.truths.push_back(sphere(20.0 * i, 0, 0, 8));
  c.predictions.push_back(sphere(0, 0, 1, 8, 0.9));
  const auto d = distance_curve({c}, 8.0);
  EXPECT_DOUBLE_EQ(d.ap, 0.0);
  EXPECT_DOUBLE_EQ(d.ate_mm, -1.0);
}
