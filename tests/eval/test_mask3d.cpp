// Mask comparison (eval/mask3d.hpp) against hand-computed values.
#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"
#include "xraylift/eval/mask3d.hpp"

using namespace xraylift;

namespace {

core::VolumeU8 cube(int lo, int hi, const Eigen::Vector3d& origin = Eigen::Vector3d::Zero()) {
  core::VolumeGeometry g;
  g.dims = {20, 20, 20};
  g.spacing = Eigen::Vector3d::Ones() * 2.0;
  g.origin = origin;
  core::VolumeU8 v(g, 0);
  for (int k = lo; k < hi; ++k)
    for (int j = lo; j < hi; ++j)
      for (int i = lo; i < hi; ++i) v.at(i, j, k) = 1;
  return v;
}

}  // namespace

// Identical masks: Dice 1, no volume error, distance 0. A cube of 8 voxels per side against one of 6 centred in
// it: Dice 2 * 216 / (512 + 216), volume error (216 - 512) / 512, every boundary voxel of the small cube is one
// voxel (2 mm) from the big cube's boundary. Catches: volumes in the wrong unit, a distance transform off by the
// spacing, a grid that resamples with an offset.
TEST(MaskCompare, CubesAgainstHandComputedValues) {
  const auto a = cube(4, 12), b = cube(5, 11);
  const auto same = eval::compare_masks(a, a, 2.0);
  EXPECT_DOUBLE_EQ(same.dice, 1.0);
  EXPECT_DOUBLE_EQ(same.volume_error_ml, 0.0);
  EXPECT_DOUBLE_EQ(same.surface_p95_mm, 0.0);
  const auto m = eval::compare_masks(a, b, 2.0);
  EXPECT_NEAR(m.dice, 2.0 * 216 / (512 + 216), 1e-12);
  EXPECT_NEAR(m.truth_ml, 512 * 8 / 1000.0, 1e-9);
  EXPECT_NEAR(m.volume_error_pct, 100.0 * (216 - 512) / 512.0, 1e-9);
  EXPECT_NEAR(m.missed_ml, (512 - 216) * 8 / 1000.0, 1e-9);
  EXPECT_NEAR(m.extra_ml, 0.0, 1e-12);
  // From the small cube's boundary the big one's is 2 mm away (faces), and from the big one's the small one is 2 mm
  // (faces), 2 sqrt(2) (edges) or 2 sqrt(3) (corners) away.
  EXPECT_GE(m.surface_mean_mm, 2.0);
  EXPECT_LE(m.surface_p95_mm, 2.0 * std::sqrt(3.0) + 1e-9);
  // Shifted by one voxel in the world: the same comparison on the other grid.
  const auto shifted = eval::compare_masks(a, cube(4, 12, Eigen::Vector3d(2, 0, 0)), 2.0);
  EXPECT_NEAR(shifted.dice, 2.0 * 7 * 64 / 1024.0, 1e-12);
  EXPECT_THROW(eval::compare_masks(a, core::VolumeU8(), 2.0), core::InputError);
  EXPECT_THROW(eval::compare_masks(a, b, 0.01, 1000), core::InputError);
}
