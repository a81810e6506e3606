#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "xraylift/core/config.hpp"
#include "xraylift/drr/options.hpp"

using namespace xraylift;
using namespace xraylift::drr;

TEST(RenderOptions, DefaultsAndConfig) {
  const core::Config empty;
  const RenderOptions d = RenderOptions::from_config(empty.section("drr"));
  EXPECT_EQ(d.integrator, Integrator::kSiddon);
  EXPECT_DOUBLE_EQ(d.mu_water_per_mm, 0.0192);
  EXPECT_EQ(d.bone, BoneModel::kNone);

  core::Config cfg = core::Config::from_yaml(
      "drr:\n  integrator: trilinear\n  step_voxels: 0.75\n  bone: linear\n  mu_bone_per_mm: 0.06\n  mask: true\n");
  const RenderOptions o = RenderOptions::from_config(cfg.section("drr"));
  EXPECT_EQ(o.integrator, Integrator::kTrilinear);
  EXPECT_DOUBLE_EQ(o.step_voxels, 0.75);
  EXPECT_EQ(o.bone, BoneModel::kLinear);
  EXPECT_TRUE(o.mask);
  EXPECT_NO_THROW(cfg.check_no_unknown_keys());
  EXPECT_EQ(o.to_json()["integrator"], "trilinear");
  EXPECT_EQ(o.attenuation().bone_boost, 1);
  EXPECT_DOUBLE_EQ(o.trilinear_step_mm(0.7), 0.75 * 0.7);  // step_voxels when step_mm is 0

  core::Config mm = core::Config::from_yaml("drr:\n  step_mm: 1.25\n  half_texture: true\n");
  const RenderOptions m = RenderOptions::from_config(mm.section("drr"));
  EXPECT_DOUBLE_EQ(m.trilinear_step_mm(0.7), 1.25);
  EXPECT_TRUE(m.half_texture);
  EXPECT_NO_THROW(mm.check_no_unknown_keys());
}

TEST(RenderOptions, BadValuesNameTheField) {
  auto fails_with = [](const std::string& yaml, const std::string& needle) {
    core::Config cfg = core::Config::from_yaml(yaml);
    try {
      RenderOptions::from_config(cfg.section("drr"));
      ADD_FAILURE() << "no error for " << yaml;
    } catch (const core::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  fails_with("drr:\n  integrator: raycast\n", "raycast");
  fails_with("drr:\n  step_voxels: 0\n", "step_voxels");
  fails_with("drr:\n  step_voxels: .nan\n", "step_voxels");
  fails_with("drr:\n  step_mm: -0.5\n", "step_mm");
  fails_with("drr:\n  step_mm: .inf\n", "step_mm");
  fails_with("drr:\n  mu_water_per_mm: -1\n", "mu_water_per_mm");
  fails_with("drr:\n  bone: maybe\n", "maybe");
  fails_with("drr:\n  device: tpu\n", "tpu");
  fails_with("drr:\n  bone_start_hu: 1000\n", "bone_start_hu");

  core::Config typo = core::Config::from_yaml("drr:\n  integrater: siddon\n");
  RenderOptions::from_config(typo.section("drr"));
  EXPECT_THROW(typo.check_no_unknown_keys(), core::ConfigError);

  RenderOptions o;
  o.mu_water_per_mm = std::numeric_limits<double>::infinity();
  EXPECT_THROW(o.validate(), core::ConfigError);
}
