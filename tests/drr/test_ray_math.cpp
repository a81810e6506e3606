// The shared per-ray math against brute-force references.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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

namespace {

// A chest-sized attenuation volume (512 x 512 x 133, 0.703 x 0.703 x 2.5 mm, the shape of the LIDC sample): an
// elliptic body with two lungs and a spine in air, plus a fine texture so every voxel a ray crosses counts.
std::vector<float> chest_mu(const GridF& g) {
  std::vector<float> mu(static_cast<std::size_t>(g.nx) * g.ny * g.nz, 0.0f);
  for (int k = 0; k < g.nz; ++k)
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        const double x = g.lo[0] + (i + 0.5) * g.spacing[0], y = g.lo[1] + (j + 0.5) * g.spacing[1];
        if ((x / 160) * (x / 160) + (y / 110) * (y / 110) > 1) continue;
        double hu = 40 + 10 * ((i * 7 + j * 3 + k) % 5);
        if (((x - 70) / 55) * ((x - 70) / 55) + (y / 75) * (y / 75) < 1 ||
            ((x + 70) / 55) * ((x + 70) / 55) + (y / 75) * (y / 75) < 1)
          hu = -850;
        if (x * x + (y - 80) * (y - 80) < 15 * 15) hu = 700;
        mu[i + static_cast<std::size_t>(g.nx) * (j + static_cast<std::size_t>(g.ny) * k)] =
            static_cast<float>(0.0192 * (1 + hu / 1000));
      }
  return mu;
}

}  // namespace

// The GPU runs ray_math.hpp in float: on the seed ring (10 views, SAD 300 / SDD 600) at 128^2 through a chest-sized
// volume, float Siddon must stay within the CUDA-vs-CPU tolerance of tests/drr/test_render_cuda.cpp (1e-4 relative
// + 1e-5 absolute) of the double reference, and so must float trilinear marching (same tolerance: on the CPU both
// use the same float interpolation weights, so only the ray set-up and the accumulation differ).
TEST(RayMath, FloatInstantiationMatchesDoubleOnTheSeedRing) {
  const core::VolumeGeometry geom = core::VolumeGeometry::centered({512, 512, 133}, {0.703125, 0.703125, 2.5});
  const GridF g = grid_of(geom, "test");
  const std::vector<float> mu = chest_mu(g);
  core::RingSpec spec;
  spec.detector.width = spec.detector.height = 128;
  spec.detector.pixel_size_mm = 0.78125 * 1024 / 128;
  const core::Rig rig = core::Rig::ring(spec);
  const float step_mm = 0.5f * 0.703125f;
  double worst_siddon = 0, worst_march = 0;
  long long crossing = 0;
  for (const auto& cam : rig) {
    const core::PinholeF pod = cam.to_pod();
    for (int r = 0; r < 128; r += 1)
      for (int c = 0; c < 128; c += 1) {
        const auto rd = camera_ray<double>(pod, c + 0.5f, r + 0.5f);
        const auto rf = camera_ray<float>(pod, c + 0.5f, r + 0.5f);
        double a0, a1;
        float f0, f1;
        const bool hit_d = clip_ray_to_grid(rd, g, a0, a1), hit_f = clip_ray_to_grid(rf, g, f0, f1);
        const double ref = hit_d ? siddon_integral(mu.data(), rd, g, a0, a1) : 0.0;
        const double got = hit_f ? siddon_integral(mu.data(), rf, g, f0, f1) : 0.0;
        crossing += ref > 1.0;
        const double diff = std::abs(got - ref);
        worst_siddon = std::max(worst_siddon, diff / (1e-4 * ref + 1e-5));
        ASSERT_LE(diff, 1e-4 * ref + 1e-5) << cam.name() << " pixel " << c << "," << r << " siddon";
        if (r % 4 || c % 4) continue;  // marching: every 16th ray (it samples 3x denser than Siddon visits)
        auto tri = [&](auto gx, auto gy, auto gz) {
          return trilinear_sample<float>(mu.data(), g, float(gx), float(gy), float(gz));
        };
        const double mref = hit_d ? march_integral(rd, g, a0, a1, double(step_mm), tri) : 0.0;
        const double mgot = hit_f ? march_integral(rf, g, f0, f1, step_mm, tri) : 0.0;
        const double mdiff = std::abs(mgot - mref);
        worst_march = std::max(worst_march, mdiff / (1e-4 * mref + 1e-5));
        ASSERT_LE(mdiff, 1e-4 * mref + 1e-5) << cam.name() << " pixel " << c << "," << r << " trilinear";
      }
  }
  EXPECT_GT(crossing, 50000);
  std::printf("[float vs double] worst error / tolerance: siddon %.3f, trilinear %.3f\n", worst_siddon, worst_march);
  RecordProperty("siddon_worst_fraction_of_tolerance", std::to_string(worst_siddon));
}

// Clipping to a sub-box of cells (what the GPU does with its resident full volume) gives the same Siddon integral as
// cropping the volume to that box (what the CPU does), for random rays through a volume that is zero outside.
TEST(RayMath, ClippingToSupportCellsEqualsCroppingTheVolume) {
  const core::VolumeGeometry geom = core::VolumeGeometry::centered({17, 13, 11}, {1.5, 2.0, 2.5});
  const GridF g = grid_of(geom, "test");
  const int lo[3] = {3, 2, 4}, hi[3] = {14, 10, 9};  // cells [lo, hi)
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> value(0.001f, 0.05f);
  std::vector<float> mu(static_cast<std::size_t>(geom.voxel_count()), 0.0f);
  const int cx = hi[0] - lo[0], cy = hi[1] - lo[1], cz = hi[2] - lo[2];
  std::vector<float> crop(static_cast<std::size_t>(cx) * cy * cz);
  for (int k = 0; k < cz; ++k)
    for (int j = 0; j < cy; ++j)
      for (int i = 0; i < cx; ++i) {
        const float v = value(rng);
        crop[i + cx * (j + std::size_t(cy) * k)] = v;
        mu[(lo[0] + i) + 17 * ((lo[1] + j) + std::size_t(13) * (lo[2] + k))] = v;
      }
  GridF cg = g;
  cg.nx = cx, cg.ny = cy, cg.nz = cz;
  for (int a = 0; a < 3; ++a) cg.lo[a] = g.lo[a] + g.spacing[a] * lo[a];
  std::uniform_real_distribution<double> dir(-1, 1), pos(-8, 8);
  int hits = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    Eigen::Vector3d o(dir(rng), dir(rng), dir(rng));
    o = o.normalized() * 90.0;
    const RayT<double> ray = ray_from(o, {pos(rng), pos(rng), pos(rng)});
    double a0, a1, b0, b1;
    const bool in_full = clip_ray_to_cells(ray, g, lo, hi, a0, a1);
    const bool in_crop = clip_ray_to_grid(ray, cg, b0, b1);
    ASSERT_EQ(in_full, in_crop) << trial;
    if (!in_full) continue;
    ++hits;
    EXPECT_NEAR(a0, b0, 1e-9);
    EXPECT_NEAR(a1, b1, 1e-9);
    ASSERT_NEAR(siddon_integral(mu.data(), ray, g, a0, a1), siddon_integral(crop.data(), ray, cg, b0, b1), 1e-9)
        << trial;
    // And the whole-grid clip gives the same integral (air outside the box adds nothing).
    double f0, f1;
    ASSERT_TRUE(clip_ray_to_grid(ray, g, f0, f1));
    ASSERT_NEAR(siddon_integral(mu.data(), ray, g, f0, f1), siddon_integral(crop.data(), ray, cg, b0, b1), 1e-9);
  }
  EXPECT_GT(hits, 1000);
  const int empty_hi[3] = {3, 10, 9};  // lo == hi on x: misses everything
  double a0, a1;
  EXPECT_FALSE(clip_ray_to_cells(ray_from({-90, 0, 0}, {0, 0, 0}), g, lo, empty_hi, a0, a1));
}

TEST(RayMath, RoundToHalfIsBinary16RoundToNearestEven) {
  EXPECT_EQ(round_to_half(1.0f), 1.0f);
  EXPECT_EQ(round_to_half(0.0f), 0.0f);
  EXPECT_EQ(round_to_half(65504.0f), 65504.0f);
  EXPECT_TRUE(std::isinf(round_to_half(70000.0f)));
  EXPECT_EQ(round_to_half(0.1f), 0.0999755859375f);
  EXPECT_EQ(round_to_half(1.0f + 1.0f / 2048), 1.0f);                // tie -> even (1.0)
  EXPECT_EQ(round_to_half(1.0f + 3.0f / 2048), 1.0f + 2.0f / 1024);  // tie -> even (1 + 2^-9)
  EXPECT_EQ(round_to_half(-0.0192f), -round_to_half(0.0192f));
  EXPECT_EQ(round_to_half(3e-6f), 50.0f * 5.9604644775390625e-08f);  // subnormal grid 2^-24
#ifdef __FLT16_MAX__
  // The compiler's own binary16 conversion as an independent reference, over the attenuation range and beyond.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> mag(-20.0f, 11.0f);
  for (int n = 0; n < 200000; ++n) {
    const float x = std::ldexp(1.0f + (n % 977) / 977.0f, static_cast<int>(mag(rng))) * (n % 2 ? 1.0f : -1.0f);
    ASSERT_EQ(round_to_half(x), static_cast<float>(static_cast<_Float16>(x))) << x;
  }
#endif
}
