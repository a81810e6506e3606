// The shared per-ray math against brute-force references.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "drr_test_util.hpp"
#include "xraylift/drr/ray_math.hpp"
#include "xraylift/drr/render.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {

// The original Siddon formulation: all plane crossings of the ray, sorted; each segment takes the voxel that
// contains its midpoint. Independent of the incremental traversal under test.
double siddon_by_sorting(const std::vector<float>& mu, const GridF& g, const RayT<double>& ray) {
  double a0, a1;
  if (!clip_ray_to_grid(ray, g, a0, a1)) return 0;
  std::vector<double> alphas{a0, a1};
  const int n[3] = {g.nx, g.ny, g.nz};
  for (int ax = 0; ax < 3; ++ax) {
    if (ray.d[ax] == 0) continue;
    for (int i = 0; i <= n[ax]; ++i) {
      const double a = (g.lo[ax] + double(g.spacing[ax]) * i - ray.o[ax]) / ray.d[ax];
      if (a > a0 && a < a1) alphas.push_back(a);
    }
  }
  std::sort(alphas.begin(), alphas.end());
  double sum = 0;
  for (std::size_t s = 0; s + 1 < alphas.size(); ++s) {
    const double mid = 0.5 * (alphas[s] + alphas[s + 1]);
    int idx[3];
    for (int ax = 0; ax < 3; ++ax) {
      const double c = (ray.o[ax] + mid * ray.d[ax] - g.lo[ax]) / g.spacing[ax];
      idx[ax] = std::clamp(static_cast<int>(std::floor(c)), 0, n[ax] - 1);
    }
    sum += (alphas[s + 1] - alphas[s]) * mu[idx[0] + g.nx * (idx[1] + std::size_t(g.ny) * idx[2])];
  }
  return sum;
}

RayT<double> ray_from(const Eigen::Vector3d& o, const Eigen::Vector3d& target) {
  const Eigen::Vector3d d = (target - o).normalized();
  return RayT<double>{{o.x(), o.y(), o.z()}, {d.x(), d.y(), d.z()}};
}

}  // namespace

TEST(RayMath, IncrementalSiddonMatchesSortedCrossingsOnRandomVolume) {
  const core::VolumeGeometry geom = core::VolumeGeometry::centered({13, 9, 7}, {1.5, 2.0, 3.25});
  const GridF g = grid_of(geom, "test");
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(0.0f, 0.05f);
  std::vector<float> mu(static_cast<std::size_t>(geom.voxel_count()));
  for (auto& m : mu) m = value(rng);
  std::uniform_real_distribution<double> pos(-30, 30), dir(-1, 1);
  int hits = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    Eigen::Vector3d o(dir(rng), dir(rng), dir(rng));
    o = o.normalized() * 80.0;
    const Eigen::Vector3d target(pos(rng) * 0.4, pos(rng) * 0.4, pos(rng) * 0.4);
    const RayT<double> ray = ray_from(o, target);
    double a0, a1;
    const double ref = siddon_by_sorting(mu, g, ray);
    double got = 0;
    if (clip_ray_to_grid(ray, g, a0, a1)) {
      got = siddon_integral(mu.data(), ray, g, a0, a1);
      ++hits;
    }
    ASSERT_NEAR(got, ref, 1e-9 * std::max(1.0, ref)) << "trial " << trial;
  }
  EXPECT_GT(hits, 1500);
}

TEST(RayMath, AxisParallelRaysAndRaysAlongCellFaces) {
  const core::VolumeGeometry geom = core::VolumeGeometry::centered({4, 4, 4}, {1, 1, 1});
  const GridF g = grid_of(geom, "test");
  std::vector<float> mu(64);
  for (int n = 0; n < 64; ++n) mu[n] = float(n);
  // Along +x through the centres of row (j=1, k=2): sum of values x 1 mm.
  const RayT<double> ray = ray_from({-10, -0.5, 0.5}, {10, -0.5, 0.5});
  double a0, a1;
  ASSERT_TRUE(clip_ray_to_grid(ray, g, a0, a1));
  EXPECT_NEAR(a1 - a0, 4.0, 1e-12);
  double expected = 0;
  for (int i = 0; i < 4; ++i) expected += mu[i + 4 * (1 + 4 * 2)];
  EXPECT_NEAR(siddon_integral(mu.data(), ray, g, a0, a1), expected, 1e-9);
  // A ray that misses the box.
  EXPECT_FALSE(clip_ray_to_grid(ray_from({-10, 5, 0}, {10, 5, 0}), g, a0, a1));
  // A box behind the source never counts.
  EXPECT_FALSE(clip_ray_to_grid(ray_from({10, 0, 0}, {20, 0, 0}), g, a0, a1));
}

TEST(RayMath, TrilinearIsExactAtVoxelCentresAndLinearBetween) {
  const core::VolumeGeometry geom = core::VolumeGeometry::centered({5, 4, 3}, {1, 1, 1});
  const GridF g = grid_of(geom, "test");
  std::vector<float> mu(60);
  // A linear field is reproduced exactly inside the centre hull; clamped outside.
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 5; ++i) mu[i + 5 * (j + 4 * k)] = 1.0f + 2.0f * i - 0.5f * j + 3.0f * k;
  auto field = [](double i, double j, double k) { return 1.0 + 2.0 * i - 0.5 * j + 3.0 * k; };
  EXPECT_NEAR(trilinear_sample(mu.data(), g, 2.5, 1.5, 0.5), field(2, 1, 0), 1e-12);
  EXPECT_NEAR(trilinear_sample(mu.data(), g, 1.8, 2.2, 1.9), field(1.3, 1.7, 1.4), 1e-6);
  // Clamp to edge: beyond the last centre the value holds.
  EXPECT_NEAR(trilinear_sample(mu.data(), g, 4.9, 0.1, 2.9), field(4, 0, 2), 1e-12);
}

TEST(RayMath, PaddedTrilinearEqualsClampedTrilinear) {
  const core::VolumeGeometry geom = core::VolumeGeometry::centered({7, 5, 4}, {1, 2, 1.5});
  const GridF g = grid_of(geom, "test");
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  std::vector<float> mu(140);
  for (auto& m : mu) m = value(rng);
  // Edge-replicated padding, built independently of render.cpp.
  const int px = 9, py = 7, pz = 6;
  std::vector<float> padded(px * py * pz);
  for (int k = 0; k < pz; ++k)
    for (int j = 0; j < py; ++j)
      for (int i = 0; i < px; ++i)
        padded[i + px * (j + py * k)] =
            mu[std::clamp(i - 1, 0, 6) + 7 * (std::clamp(j - 1, 0, 4) + 5 * std::clamp(k - 1, 0, 3))];
  const int upper[3] = {7, 5, 4};
  std::uniform_real_distribution<double> gx(0, 7), gy(0, 5), gz(0, 4);
  for (int n = 0; n < 2000; ++n) {
    const double x = gx(rng), y = gy(rng), z = gz(rng);
    ASSERT_NEAR(trilinear_sample_padded(padded.data(), px, px * py, upper, x, y, z),
                trilinear_sample(mu.data(), g, x, y, z), 1e-6);
  }
  // The box faces themselves (the clipped segment's ends).
  EXPECT_NEAR(trilinear_sample_padded(padded.data(), px, px * py, upper, 0.0, 5.0, 4.0),
              trilinear_sample(mu.data(), g, 0.0, 5.0, 4.0), 1e-6);
  EXPECT_NEAR(trilinear_sample_padded(padded.data(), px, px * py, upper, 7.0, 0.0, 2.2),
              trilinear_sample(mu.data(), g, 7.0, 0.0, 2.2), 1e-6);
}

TEST(RayMath, MarchingIntegratesConstantsExactly) {
  const core::VolumeGeometry geom = core::VolumeGeometry::centered({6, 6, 6}, {2, 2, 2});
  const GridF g = grid_of(geom, "test");
  const RayT<double> ray = ray_from({-40, -30, 20}, {1, 2, -1});
  double a0, a1;
  ASSERT_TRUE(clip_ray_to_grid(ray, g, a0, a1));
  const double L = march_integral(ray, g, a0, a1, 0.37, [](double, double, double) { return 0.02; });
  EXPECT_NEAR(L, 0.02 * (a1 - a0), 1e-12);
}

TEST(RayMath, HounsfieldToAttenuation) {
  const AttenuationModel plain{0.0192f, 0.0573f, 0.0f, 0};
  EXPECT_FLOAT_EQ(hu_to_mu(0, plain), 0.0192f);
  EXPECT_FLOAT_EQ(hu_to_mu(-1000, plain), 0.0f);
  EXPECT_FLOAT_EQ(hu_to_mu(-3024, plain), 0.0f);  // clamped, never negative
  EXPECT_FLOAT_EQ(hu_to_mu(1000, plain), 2 * 0.0192f);
  const AttenuationModel bone{0.0192f, 0.0573f, 0.0f, 1};
  EXPECT_FLOAT_EQ(hu_to_mu(1000, bone), 0.0573f);
  EXPECT_FLOAT_EQ(hu_to_mu(500, bone), 0.5f * (0.0192f + 0.0573f));
  EXPECT_FLOAT_EQ(hu_to_mu(-500, bone), 0.0096f);
  const AttenuationModel late{0.02f, 0.06f, 300.0f, 1};
  EXPECT_NEAR(hu_to_mu(300.0f, late), 0.026f, 1e-7);  // continuous at the start of the boost
  EXPECT_NEAR(hu_to_mu(1000.0f, late), 0.06f, 1e-7);
}
