// The shared ray rule (detect3d/ray_gate.hpp) that triangulate and the MV2D depth prior both use.
#include <gtest/gtest.h>

#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/detect3d/ray_gate.hpp"

using namespace xraylift;

TEST(RayGate, ToleranceGrowsWithTheBackProjectedExtent) {
  const detect3d::RayGate gate{5.0, 0.25, 10.0};
  EXPECT_DOUBLE_EQ(gate.tolerance_mm(0), 5.0);
  EXPECT_DOUBLE_EQ(gate.tolerance_mm(20), 10.0);
  EXPECT_NEAR(gate.min_sin(), std::sin(10.0 * M_PI / 180.0), 1e-12);
  // A 30 x 12 px RoI at fx = fy = 768 px, 300 mm deep: the larger side is 30 px -> 30 * 300 / 768 mm.
  core::Intrinsics k;
  k.fx = 768, k.fy = 768;
  EXPECT_DOUBLE_EQ(detect3d::back_projected_extent_mm(core::Box2D{10, 10, 40, 22}, k, 300), 30.0 * 300 / 768);
  k.fy = 384;  // anisotropic pixels: 12 px at fy 384 is still shorter than 30 px at fx 768
  EXPECT_DOUBLE_EQ(detect3d::back_projected_extent_mm(core::Box2D{10, 10, 40, 22}, k, 300), 30.0 * 300 / 768);
  k.fy = 96;
  EXPECT_DOUBLE_EQ(detect3d::back_projected_extent_mm(core::Box2D{10, 10, 40, 22}, k, 300), 12.0 * 300 / 96);
}

TEST(RayGate, ReadsTheSharedNamesAndRefusesBadValues) {
  const auto c = core::Config::from_yaml(
      "g: {max_ray_distance_mm: 3, ray_distance_fraction: 0.5, min_ray_angle_deg: 20}", "g.yaml");
  detect3d::RayGate gate;
  gate.read(c.section("g"));
  EXPECT_DOUBLE_EQ(gate.max_ray_distance_mm, 3);
  EXPECT_DOUBLE_EQ(gate.ray_distance_fraction, 0.5);
  EXPECT_DOUBLE_EQ(gate.min_ray_angle_deg, 20);
  EXPECT_TRUE(c.unknown_keys().empty());
  for (const auto& bad : {detect3d::RayGate{0, 0.1, 10}, detect3d::RayGate{5, 1.5, 10}, detect3d::RayGate{5, 0.1, 90}})
    EXPECT_THROW(bad.validate("test"), core::ConfigError);
}
