#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"

#include "xraylift/viz/mesh.hpp"

using namespace xraylift;

TEST(Mesh, SphereIsClosedOutwardAndNearAnalytic) {
  const viz::Mesh s = viz::make_sphere({1, 2, 3}, 10, 48, 96);
  EXPECT_TRUE(viz::is_watertight(s));
  EXPECT_NEAR(viz::signed_volume(s), 4.0 / 3.0 * M_PI * 1000, 0.01 * 4.0 / 3.0 * M_PI * 1000);
  EXPECT_NEAR(viz::surface_area(s), 4 * M_PI * 100, 0.01 * 4 * M_PI * 100);
  const auto b = viz::bounds(s);
  EXPECT_NEAR(b.lo.z(), -7, 1e-4);
  EXPECT_NEAR(b.hi.z(), 13, 1e-4);
}

TEST(Mesh, BoxVolumeAreaAndOrientation) {
  const viz::Mesh b = viz::make_box({0, 0, 0}, {2, 3, 4});
  EXPECT_TRUE(viz::is_watertight(b));
  EXPECT_NEAR(viz::signed_volume(b), 24, 1e-5);
  EXPECT_NEAR(viz::surface_area(b), 2 * (6 + 8 + 12), 1e-5);
}

TEST(Mesh, OpenOrFlippedMeshIsNotWatertight) {
  viz::Mesh b = viz::make_box({0, 0, 0}, {1, 1, 1});
  viz::Mesh open = b;
  open.triangles.pop_back();
  EXPECT_FALSE(viz::is_watertight(open));
  std::swap(b.triangles[0][1], b.triangles[0][2]);
  EXPECT_FALSE(viz::is_watertight(b));
}

TEST(Mesh, ValidateRejectsBadIndexAndBadPrimitives) {
  viz::Mesh m = viz::make_box({0, 0, 0}, {1, 1, 1});
  m.triangles[3][1] = 99;
  EXPECT_THROW(viz::validate_mesh(m, "test"), core::InputError);
  EXPECT_THROW(viz::make_sphere({0, 0, 0}, -1), core::InputError);
  EXPECT_THROW(viz::make_box({0, 0, 0}, {1, 0, 1}), core::InputError);
}

TEST(Mesh, CompactDropsUnusedVertices) {
  viz::Mesh m = viz::make_box({0, 0, 0}, {1, 1, 1});
  m.vertices.push_back({5, 5, 5});
  viz::compact(m);
  EXPECT_EQ(m.vertex_count(), 8u);
  EXPECT_TRUE(viz::is_watertight(m));
}
