#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"
#include "xraylift/detect3d/scene_range.hpp"

using namespace xraylift;

TEST(SceneRange, NormalizeRoundTripInMillimetres) {
  detect3d::SceneRange r;
  r.min_mm = {-200, -150, -250};
  r.max_mm = {200, 150, 250};
  EXPECT_NO_THROW(r.validate("test"));
  const Eigen::Vector3d p(40, -30, 100);
  const Eigen::Vector3d u = r.normalize(p);
  EXPECT_NEAR(u.x(), 0.6, 1e-12);
  EXPECT_NEAR(u.y(), 0.4, 1e-12);
  EXPECT_NEAR(u.z(), 0.7, 1e-12);
  EXPECT_NEAR((r.denormalize(u) - p).norm(), 0, 1e-12);
  EXPECT_TRUE(r.contains(p));
}

TEST(SceneRange, RejectsMetreScaleRanges) {
  // The seed's bug: nuScenes' [-51.2, 51.2] m range applied to data in mm.
  detect3d::SceneRange r;
  r.min_mm = {-51.2, -51.2, -5};
  r.max_mm = {51.2, 51.2, 3};
  try {
    r.validate("configs/x.yaml");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("metres"), std::string::npos) << e.what();
  }
}

TEST(SceneRange, FromConfigNamesTheKey) {
  core::Config c = core::Config::from_yaml("head:\n  scene_range:\n    min_mm: [-200, -200]\n", "head.yaml");
  try {
    detect3d::SceneRange::from_config(c.section("head.scene_range"));
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("head.scene_range.min_mm"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("head.yaml"), std::string::npos) << e.what();
  }
}
