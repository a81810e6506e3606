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

// Analytic reference: a sphere (r 5 at x = 30) and a box (20 mm cube at the origin) are apart, so every sample
// of the sphere is at the point-to-box distance |max(0, |p - c| - h)| and every sample of the box at |p - c_s| - r
// from the sphere (its tessellation adds < 0.01 mm at 64 x 128). Catches a grid search that stops a ring too
// early (distances too large), point-to-vertex instead of point-to-triangle distances (too large on the box's
// flat faces) and a one-sided measure.
TEST(SurfaceDistance, MatchesAnalyticDistancesBetweenSphereAndBox) {
  const Eigen::Vector3d cs(30, 0, 0);
  const viz::Mesh sphere = viz::make_sphere(cs, 5, 64, 128);
  const viz::Mesh box = viz::make_box({0, 0, 0}, {20, 20, 20});
  double max = 0, sum = 0;
  std::size_t n = 0;
  auto samples = [](const viz::Mesh& m) {
    std::vector<Eigen::Vector3d> s;
    for (const auto& v : m.vertices) s.push_back(v.cast<double>());
    for (const auto& t : m.triangles)
      s.push_back((m.vertices[t[0]] + m.vertices[t[1]] + m.vertices[t[2]]).cast<double>() / 3.0);
    return s;
  };
  for (const auto& p : samples(sphere)) {
    const double d = (p.cwiseAbs() - Eigen::Vector3d::Constant(10)).cwiseMax(0.0).norm();
    max = std::max(max, d), sum += d, ++n;
  }
  for (const auto& p : samples(box)) {
    const double d = (p - cs).norm() - 5;
    max = std::max(max, d), sum += d, ++n;
  }
  const viz::SurfaceDistance got = viz::surface_distance(sphere, box);
  EXPECT_NEAR(got.hausdorff_mm, max, 0.02);
  EXPECT_NEAR(got.mean_mm, sum / double(n), 0.02);
  EXPECT_NEAR(viz::surface_distance(box, box).hausdorff_mm, 0.0, 1e-9);
  EXPECT_THROW(viz::surface_distance(box, viz::Mesh{}), core::InputError);
}
