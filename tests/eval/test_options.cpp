#include "xraylift/eval/options.hpp"

#include <gtest/gtest.h>

#include "xraylift/testing/testing.hpp"

using namespace xraylift;

TEST(EvalOptions, DefaultFileMatchesBuiltInDefaults) {
  const auto cfg = core::Config::load(xraylift::testing::source_dir() / "configs/eval/default.yaml");
  const auto o = eval::eval3d_options_from_config(cfg.section("eval"));
  eval::coco2d_options_from_config(cfg.section("eval"));
  EXPECT_NO_THROW(cfg.check_no_unknown_keys());
  const eval::Eval3DOptions d;
  EXPECT_EQ(o.distance_thresholds_mm, d.distance_thresholds_mm);
  EXPECT_EQ(o.froc.fp_rates, d.froc.fp_rates);
  EXPECT_EQ(o.iou_thresholds, d.iou_thresholds);
  EXPECT_EQ(o.bootstrap_samples, d.bootstrap_samples);
  EXPECT_EQ(o.seed, d.seed);
  ASSERT_EQ(o.size_bins.size(), d.size_bins.size());
  EXPECT_DOUBLE_EQ(o.size_bins[3].max_mm, 30);
}

TEST(EvalOptions, Luna16ProtocolAndBadValues) {
  const auto luna = core::Config::load(xraylift::testing::source_dir() / "configs/eval/luna16.yaml");
  const auto o = eval::eval3d_options_from_config(luna.section("eval"));
  EXPECT_DOUBLE_EQ(o.truth_filter.min_diameter_mm, 3);
  EXPECT_EQ(o.truth_filter.min_readers, 3);
  auto bad = core::Config::from_yaml("eval: {tp_threshold_mm: 5}");
  EXPECT_THROW(eval::eval3d_options_from_config(bad.section("eval")), core::ConfigError);
  bad = core::Config::from_yaml("eval: {size_bins_mm: [[3]]}");
  EXPECT_THROW(eval::eval3d_options_from_config(bad.section("eval")), core::ConfigError);
  bad = core::Config::from_yaml("eval: {max_detections_2d: 0}");
  EXPECT_THROW(eval::coco2d_options_from_config(bad.section("eval")), core::ConfigError);
}
