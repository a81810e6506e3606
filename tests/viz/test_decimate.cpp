#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"

#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/surface.hpp"
#include "xraylift/viz/synthetic_chest.hpp"

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

// The lung model's case: a smoothed lung surface from a mask, decimated 10x. Catches a decimator that tears the
// surface (not closed), loses volume, or moves it: measured against the undecimated mesh (viz::surface_distance).
TEST(Decimate, LungSurfaceStaysClosedAndWithinAMillimetreOfTheOriginal) {
  const auto chest = viz::make_synthetic_chest({2, 2, 2});
  viz::LungModelOptions o;
  o.voxel_mm = 2;
  o.target_triangles = std::size_t(1) << 40;  // undecimated
  const viz::LungModel full = viz::build_lung_model(viz::segment_lungs(chest.hu), o);
  ASSERT_FALSE(full.lungs.empty());
  const viz::Mesh& original = full.lungs[0].mesh;
  viz::Mesh m = original;
  const std::size_t target = original.triangle_count() / 10;
  viz::decimate(m, target);
  EXPECT_LE(m.triangle_count(), target);
  EXPECT_GT(m.triangle_count(), target * 9 / 10);
  EXPECT_TRUE(viz::is_watertight(m));
  EXPECT_NEAR(viz::signed_volume(m) / viz::signed_volume(original), 1.0, 0.01);
  const viz::SurfaceDistance d = viz::surface_distance(m, original);
  EXPECT_LT(d.mean_mm, 0.2);
  EXPECT_LT(d.hausdorff_mm, 1.5);
}
