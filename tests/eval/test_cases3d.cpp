#include "xraylift/eval/cases3d.hpp"
#include "xraylift/eval/detection3d.hpp"
#include "xraylift/eval/froc.hpp"

#include <gtest/gtest.h>

#include "eval_test_cases.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::eval::testcases;

namespace {

core::BoxSet set_of(std::vector<core::CaseBoxes> cases, core::BoxSource source) {
  core::BoxSet s;
  s.source = source;
  s.cases = std::move(cases);
  return s;
}

std::string error_of(const core::BoxSet& truth, const core::BoxSet& pred) {
  try {
    eval::pair_cases(truth, "truth.json", pred, "pred.json");
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Cases3D, PairsByCaseIdAndAppliesTheFilter) {
  auto small = sphere(0, 0, 0, 2);
  auto two_readers = sphere(10, 0, 0, 8);
  two_readers.readers = 2;
  auto unknown_readers = sphere(20, 0, 0, 8);
  auto ground_glass = sphere(30, 0, 0, 8);
  ground_glass.texture = "ground-glass";
  const auto truth = set_of({{"a", {small, two_readers, unknown_readers, ground_glass}}, {"b", {sphere(0, 0, 0, 5)}}},
                            core::BoxSource::kTruth);
  const auto pred = set_of({{"b", {sphere(0, 0, 0, 5, 0.5)}}}, core::BoxSource::kPrediction);
  eval::TruthFilter filter{3.0, 3};
  filter.textures = {"solid", "part-solid"};
  const auto cases = eval::pair_cases(truth, "t", pred, "p", filter);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].case_id, "a");
  EXPECT_TRUE(cases[0].predictions.empty());  // a truth case absent from the predictions: no predictions
  EXPECT_TRUE(cases[0].truths[0].ignore);     // 2 mm < 3 mm
  EXPECT_TRUE(cases[0].truths[1].ignore);     // 2 readers < 3
  EXPECT_FALSE(cases[0].truths[2].ignore);    // readers unknown: kept
  EXPECT_TRUE(cases[0].truths[3].ignore);     // ground-glass, not listed
  EXPECT_EQ(cases[1].predictions.size(), 1u);
  EXPECT_EQ(eval::count_truths(cases, false), 2);
  EXPECT_EQ(eval::count_truths(cases, true), 3);  // ignore regions: small, 2 readers, ground-glass
  EXPECT_EQ(eval::count_predictions(cases), 1);
}

TEST(Cases3D, RadiusAndDistance) {
  auto t = sphere(0, 0, 0, 10);
  EXPECT_DOUBLE_EQ(eval::truth_radius(t), 5.0);
  t.diameter_mm = 6;
  EXPECT_DOUBLE_EQ(eval::truth_radius(t), 3.0);
  EXPECT_DOUBLE_EQ(eval::centre_distance(sphere(0, 0, 0, 1), sphere(3, 4, 0, 1)), 5.0);
}

TEST(Cases3D, BadInputNamesFileAndEntry) {
  const auto truth = set_of({{"a", {sphere(0, 0, 0, 8)}}}, core::BoxSource::kTruth);
  EXPECT_NE(error_of(truth, set_of({{"zz", {}}}, core::BoxSource::kPrediction))
                .find("pred.json: cases[0]: case_id 'zz' is not in the truth file truth.json"),
            std::string::npos);
  EXPECT_NE(error_of(truth, set_of({{"a", {sphere(0, 0, 0, 8, 1.5)}}}, core::BoxSource::kPrediction))
                .find("pred.json: cases[0] (a).boxes[0].score = 1.5"),
            std::string::npos);
  auto negative = sphere(0, 0, 0, 8, 0.5);
  negative.box.size.y() = -1;
  EXPECT_NE(error_of(truth, set_of({{"a", {negative}}}, core::BoxSource::kPrediction))
                .find("pred.json: cases[0] (a).boxes[0]: size[1] = -1"),
            std::string::npos);
  auto nan_truth = sphere(0, 0, 0, 8);
  nan_truth.box.center.x() = NAN;
  EXPECT_NE(error_of(set_of({{"a", {nan_truth}}}, core::BoxSource::kTruth), set_of({}, core::BoxSource::kPrediction))
                .find("truth.json: cases[0] (a).boxes[0]: centre"),
            std::string::npos);
  EXPECT_NE(error_of(truth, set_of({{"a", {}}, {"a", {}}}, core::BoxSource::kPrediction)).find("appears twice"),
            std::string::npos);
}

TEST(Cases3D, NumberTooLargeIsAnInputErrorNamingTheFile) {
  const auto path = xraylift::testing::scratch_dir("cases3d_overflow") / "pred.json";
  core::write_file_atomic(path, R"({"format": "xraylift.boxes3d", "version": 1, "source": "prediction", "cases": [
      {"case_id": "a", "boxes": [{"center_mm": [0, 0, 0], "size_mm": [1e999, 1, 1], "score": 0.5}]}]})");
  try {
    core::read_box_set(path);
    FAIL() << "expected InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

// LUNA16's excluded findings without a size (diameter -1 in annotations_excluded.csv) get diameter 10 mm
// (noduleCADEvaluationLUNA16.py: `if diameter < 0: diameter = 10`): a prediction 4 mm from a point mark is on the
// exclusion region, not a false positive (with the 3 mm box alone its radius would be 1.5 mm).
TEST(Cases3D, UnsizedFindingsGetTheLuna16ExclusionDiameter) {
  auto point = sphere(0, 0, 0, 3, 1.0, true);
  point.sized = false;
  auto nodule = sphere(60, 0, 0, 8);
  const auto truth = set_of({{"a", {point, nodule}}}, core::BoxSource::kTruth);
  const auto pred =
      set_of({{"a", {sphere(4, 0, 0, 5, 0.9), sphere(60.5, 0, 0, 8, 0.8)}}}, core::BoxSource::kPrediction);
  const auto cases = eval::pair_cases(truth, "t", pred, "p");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_DOUBLE_EQ(cases[0].truths[0].diameter(), 10.0);
  EXPECT_DOUBLE_EQ(eval::truth_radius(cases[0].truths[0]), 5.0);
  EXPECT_DOUBLE_EQ(cases[0].truths[1].diameter(), 8.0);  // sized truths keep theirs
  const auto f = eval::froc_case(cases[0]);
  EXPECT_TRUE(f.fp_scores.empty());
  EXPECT_EQ(f.ignored_predictions, 1);
  EXPECT_EQ(eval::match_by_distance(cases[0], 2.0).ignored_predictions, 1);
  // The diameter is an option; an unsized truth is below any positive minimum diameter.
  eval::TruthFilter small;
  small.unsized_diameter_mm = 3.0;
  const auto c3 = eval::pair_cases(truth, "t", pred, "p", small);
  EXPECT_EQ(eval::froc_case(c3[0]).fp_scores, (std::vector<double>{0.9}));
  auto unflagged = truth;
  unflagged.cases[0].boxes[0].ignore = false;
  eval::TruthFilter luna;
  luna.min_diameter_mm = 3;
  EXPECT_TRUE(eval::pair_cases(unflagged, "t", pred, "p", luna)[0].truths[0].ignore);
  EXPECT_FALSE(eval::pair_cases(unflagged, "t", pred, "p")[0].truths[0].ignore);
}

TEST(Cases3D, PredictionFilePositionsFollowThePredictionFile) {
  const auto truth =
      set_of({{"a", {sphere(0, 0, 0, 8)}}, {"b", {sphere(0, 0, 0, 8)}}, {"c", {}}}, core::BoxSource::kTruth);
  const auto pred =
      set_of({{"b", {sphere(0, 0, 0, 8, 0.5)}}, {"a", {sphere(0, 0, 0, 8, 0.5)}}}, core::BoxSource::kPrediction);
  const auto cases = eval::pair_cases(truth, "t", pred, "p");
  EXPECT_EQ(cases[0].prediction_file_position, 1);  // "a" is second in the prediction file
  EXPECT_EQ(cases[1].prediction_file_position, 0);
  EXPECT_EQ(cases[2].prediction_file_position, -1);  // no predictions
}
