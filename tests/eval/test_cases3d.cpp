#include "xraylift/eval/cases3d.hpp"

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
  const auto truth = set_of({{"a", {small, two_readers, unknown_readers}}, {"b", {sphere(0, 0, 0, 5)}}},
                            core::BoxSource::kTruth);
  const auto pred = set_of({{"b", {sphere(0, 0, 0, 5, 0.5)}}}, core::BoxSource::kPrediction);
  const auto cases = eval::pair_cases(truth, "t", pred, "p", eval::TruthFilter{3.0, 3});
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].case_id, "a");
  EXPECT_TRUE(cases[0].predictions.empty());  // a truth case absent from the predictions: no predictions
  EXPECT_TRUE(cases[0].truths[0].ignore);      // 2 mm < 3 mm
  EXPECT_TRUE(cases[0].truths[1].ignore);      // 2 readers < 3
  EXPECT_FALSE(cases[0].truths[2].ignore);     // readers unknown: kept
  EXPECT_EQ(cases[1].predictions.size(), 1u);
  EXPECT_EQ(eval::count_truths(cases, false), 2);
  EXPECT_EQ(eval::count_truths(cases, true), 2);
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
    eval::read_box_set_checked(path);
    FAIL() << "expected InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}
