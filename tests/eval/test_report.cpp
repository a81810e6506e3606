#include "xraylift/eval/report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eval_test_cases.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::eval::testcases;

TEST(Report, WritesJsonMarkdownAndPlots) {
  eval::Eval3DOptions o;
  o.bootstrap_samples = 50;
  const auto r = eval::evaluate_3d(predict_truths(three_scans(), 3.0, 0.9), o);
  const auto dir = xraylift::testing::scratch_dir("report3d");
  const auto paths = eval::write_report_3d(dir, r, o, {"t.json", "p.json"});
  ASSERT_EQ(paths.size(), 4u);
  for (const auto& p : paths) EXPECT_GT(std::filesystem::file_size(p), 100u) << p;
  const auto doc = nlohmann::json::parse(core::read_file(dir / "metrics.json"));
  EXPECT_DOUBLE_EQ(doc["overall"]["froc"]["cpm"].get<double>(), 1.0);
  EXPECT_NEAR(doc["overall"]["nuscenes"]["ate_mm"].get<double>(), 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(doc["overall"]["nuscenes"]["map"].get<double>(), 0.75);
  EXPECT_EQ(doc["bootstrap"]["samples"].get<int>(), 50);
  const std::string md = core::read_file(dir / "summary.md");
  EXPECT_NE(md.find("| CPM (LUNA16) | 1.000 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ATE @ 8 mm (mm) | 3.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| size | 6-10 mm | 4 |"), std::string::npos) << md;
}

TEST(Report, CompareHasARowPerSet) {
  eval::Eval3DOptions o;
  o.bootstrap_samples = 0;
  std::vector<eval::NamedResult> sets;
  sets.push_back({"perfect", "a.json", eval::evaluate_3d(predict_truths(three_scans(), 0.0, 0.9), o)});
  sets.push_back({"shifted", "b.json", eval::evaluate_3d(predict_truths(three_scans(), 3.0, 0.9), o)});
  const auto dir = xraylift::testing::scratch_dir("compare3d");
  eval::write_compare_3d(dir, sets, o, "t.json");
  const std::string md = core::read_file(dir / "compare.md");
  EXPECT_NE(md.find("| perfect | 1.000 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| shifted | 1.000 |  | 0.750 | 3.00 |"), std::string::npos) << md;
  EXPECT_EQ(nlohmann::json::parse(core::read_file(dir / "compare.json"))["results"].size(), 2u);
  EXPECT_EQ(md.find("Paired differences"), std::string::npos) << md;
}

TEST(Report, CompareHasThePairedDifferences) {
  eval::Eval3DOptions o;
  o.bootstrap_samples = 100;
  o.breakdowns = false;
  auto half = predict_truths(three_scans(), 0.0, 0.9);
  half[0].predictions.clear();  // misses 2 of 4
  const auto all = predict_truths(three_scans(), 0.0, 0.9);
  std::vector<eval::NamedResult> sets;
  sets.push_back({"all", "a.json", eval::evaluate_3d(all, o)});
  sets.push_back({"half", "b.json", eval::evaluate_3d(half, o)});
  const auto dir = xraylift::testing::scratch_dir("compare3d_paired");
  eval::write_compare_3d(dir, sets, o, "t.json", {eval::paired_difference(all, half, o)});
  const std::string md = core::read_file(dir / "compare.md");
  EXPECT_NE(md.find("## Paired differences against all"), std::string::npos) << md;
  EXPECT_NE(md.find("| half | -0.500 | "), std::string::npos) << md;
  const auto doc = nlohmann::json::parse(core::read_file(dir / "compare.json"));
  ASSERT_EQ(doc["paired"].size(), 1u);
  EXPECT_EQ(doc["paired"][0]["name"], "half");
  EXPECT_EQ(doc["paired"][0]["against"], "all");
  EXPECT_DOUBLE_EQ(doc["paired"][0]["cpm_difference"].get<double>(), -0.5);
  EXPECT_LE(doc["paired"][0]["cpm_difference_ci"][1].get<double>(), 0.0);  // never better on any resample
  EXPECT_THROW(eval::write_compare_3d(dir, sets, o, "t.json", {eval::PairedDifference{}, eval::PairedDifference{}}),
               std::exception);
  EXPECT_EQ(eval::format_difference(-0.5), "-0.500");
  EXPECT_EQ(eval::format_difference(0.0123), "+0.012");
}

TEST(Report, FormatsUndefinedAsNa) {
  EXPECT_EQ(eval::format_metric(-1), "n/a");
  EXPECT_EQ(eval::format_metric(0.5), "0.500");
  EXPECT_EQ(eval::format_metric(2.345, 2), "2.35");
}

TEST(Report, TwoDimensionalReport) {
  std::map<std::string, eval::Coco2DResult> groups;
  groups["all"] =
      eval::evaluate_coco2d({{"a", core::Box2D{0, 0, 10, 10}, false}}, {{"a", core::Box2D{0, 0, 10, 10}, 0.9}});
  groups["view v0"] = groups["all"];
  const auto dir = xraylift::testing::scratch_dir("report2d");
  const auto paths = eval::write_report_2d(dir, groups, {"t.json", "p.json"});
  ASSERT_EQ(paths.size(), 3u);
  const std::string md = core::read_file(dir / "summary.md");
  EXPECT_NE(md.find("| all | 1 | 1 | 1.000 | 1.000 | 1.000 | 1.000 |"), std::string::npos) << md;
  const auto doc = nlohmann::json::parse(core::read_file(dir / "metrics.json"));
  EXPECT_DOUBLE_EQ(doc["groups"]["view v0"]["ap50"].get<double>(), 1.0);
}
