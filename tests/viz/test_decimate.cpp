#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"

#include "xraylift/viz/surface.hpp"

using namespace xraylift;

TEST(Decimate, ReachesTargetKeepsClosedAndShape) {
  viz::Mesh m = viz::make_sphere({5, 0, 0}, 20, 60, 120);
  const double v0 = viz::signed_volume(m);
  ASSERT_GT(m.triangle_count(), 10000u);
  viz::decimate(m, 1000);
  EXPECT_LE(m.triangle_count(), 1000u);
  EXPECT_GT(m.triangle_count(), 900u);
  EXPECT_TRUE(viz::is_watertight(m));
  EXPECT_NEAR(viz::signed_volume(m) / v0, 1.0, 0.02);
  for (const auto& v : m.vertices) EXPECT_NEAR((v - Eigen::Vector3f(5, 0, 0)).norm(), 20.0f, 0.5f);
}

TEST(Decimate, FlatBoxFacesCollapseToFewTriangles) {
  viz::Mesh m = viz::make_sphere({0, 0, 0}, 1, 4, 6);
  viz::decimate(m, 4);
  EXPECT_TRUE(viz::is_watertight(m));
  EXPECT_GE(m.triangle_count(), 4u);
}

TEST(Decimate, RejectsTinyTarget) {
  viz::Mesh m = viz::make_box({0, 0, 0}, {1, 1, 1});
  EXPECT_THROW(viz::decimate(m, 2), core::InputError);
}
