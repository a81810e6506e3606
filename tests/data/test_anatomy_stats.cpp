// Anatomy statistics on analytic volumes (docs/data.md "Anatomy statistics"): spheres of known volume, cylinders of
// known radius, a Y branch, Gaussian blobs at known positions.
#include <gtest/gtest.h>

#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/data/anatomy_stats.hpp"

using namespace xraylift;

namespace {

constexpr double kPi = 3.14159265358979323846;

core::VolumeGeometry grid(const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing) {
  return core::VolumeGeometry::centered(dims, spacing);
}

double segment_distance(const Eigen::Vector3d& p, const Eigen::Vector3d& a, const Eigen::Vector3d& b) {
  const Eigen::Vector3d ab = b - a;
  const double t = std::clamp(ab.dot(p - a) / ab.squaredNorm(), 0.0, 1.0);
  return (a + t * ab - p).norm();
}

struct Tube {
  Eigen::Vector3d a, b;
  double r;
};

// A block of lung (-850 HU, every voxel labelled right lung) holding vessels (+40 HU) along the tubes.
struct LungBlock {
  core::VolumeI16 hu;
  core::VolumeU8 lungs;
  LungBlock(const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing, const std::vector<Tube>& tubes)
      : hu(grid(dims, spacing), -850), lungs(grid(dims, spacing), data::kRightLung) {
    for (int k = 0; k < dims.z(); ++k)
      for (int j = 0; j < dims.y(); ++j)
        for (int i = 0; i < dims.x(); ++i) {
          const Eigen::Vector3d p = hu.index_to_world(Eigen::Vector3d(i, j, k));
          for (const auto& t : tubes)
            if (segment_distance(p, t.a, t.b) <= t.r) hu.at(i, j, k) = 40;
        }
  }
};

data::AnatomyStatsOptions no_blobs() {
  data::AnatomyStatsOptions o;
  o.blob_diameters_mm.clear();
  return o;
}

}  // namespace

TEST(AnatomyStats, TwoAirSpheresInABodyGiveTheirVolumesPerSide) {
  // Soft tissue with an air margin (outside the body) and two air spheres of radius 40 mm: the lungs.
  core::VolumeI16 hu(grid({128, 112, 64}, {2, 2, 2}), -1000);
  const Eigen::Vector3d right_c(-55, 0, 0), left_c(55, 0, 0);
  for (int k = 0; k < 64; ++k)
    for (int j = 4; j < 108; ++j)
      for (int i = 4; i < 124; ++i) {
        const Eigen::Vector3d p = hu.index_to_world(Eigen::Vector3d(i, j, k));
        const bool lung = (p - right_c).norm() <= 40 || (p - left_c).norm() <= 40;
        hu.at(i, j, k) = lung ? -850 : 40;
      }
  const auto s = data::anatomy_stats(hu, no_blobs());
  const double ball_ml = 4.0 / 3.0 * kPi * 40 * 40 * 40 / 1000;
  EXPECT_NEAR(s.right_lung_ml / ball_ml, 1.0, 0.03) << s.right_lung_ml;
  EXPECT_NEAR(s.left_lung_ml / ball_ml, 1.0, 0.03) << s.left_lung_ml;
  EXPECT_NEAR(s.lung_litres(), 2 * ball_ml / 1000, 0.03 * ball_ml / 1000);
  EXPECT_EQ(s.vessel_fraction, 0.0);
  EXPECT_EQ(s.vessel_components, 0);
  EXPECT_EQ(s.parenchyma_p50_hu, -850);
  EXPECT_NEAR(s.parenchyma_mean_hu, -850, 1e-9);
}

TEST(AnatomyStats, CylinderOfKnownRadiusOnAnAnisotropicGrid) {
  // Along x on a (0.5, 0.5, 1.0) mm grid: the radius comes from y and the coarser z.
  const Eigen::Vector3i dims(100, 60, 30);
  const Eigen::Vector3d sp(0.5, 0.5, 1.0);
  LungBlock thick(dims, sp, {{{-15, 0, 0}, {15, 0, 0}, 4.0}});
  const auto s = data::anatomy_stats(thick.hu, thick.lungs, no_blobs());
  const double block = 50.0 * 30 * 30, capsule = kPi * 16 * 30 + 4.0 / 3.0 * kPi * 64;  // tube with round ends
  EXPECT_NEAR(s.vessel_fraction, capsule / block, 0.03 * capsule / block);
  EXPECT_NEAR(s.median_radius_mm, 4.0, 0.5);  // within one in-plane voxel
  EXPECT_GT(s.thick_share, 0.9);
  EXPECT_GT(s.centreline_mm, 30 - 2 * 4.0 - 1);
  EXPECT_LT(s.centreline_mm, 30 + 2 * 4.0 + 1);  // at most the capsule's length
  EXPECT_EQ(s.vessel_components, 1);
  EXPECT_EQ(s.branch_points, 0);

  LungBlock thin(dims, sp, {{{-15, 0, 0}, {15, 0, 0}, 1.5}});
  const auto t = data::anatomy_stats(thin.hu, thin.lungs, no_blobs());
  EXPECT_NEAR(t.median_radius_mm, 1.5, 0.5);
  EXPECT_EQ(t.thick_share, 0.0);
  EXPECT_GT(t.centreline_mm, 30 - 2 * 1.5 - 1);
  EXPECT_EQ(t.branch_points, 0);
}

TEST(AnatomyStats, YBranchHasOneBranchPoint) {
  const Eigen::Vector3d junction(0, 0, -2);
  const double r = 1.5;
  const Eigen::Vector3d arm1 = junction + 14 * Eigen::Vector3d(std::sin(0.5), 0, std::cos(0.5));
  const Eigen::Vector3d arm2 = junction + 14 * Eigen::Vector3d(-std::sin(0.5), 0, std::cos(0.5));
  LungBlock y({72, 40, 80}, {0.6, 0.6, 0.6}, {{junction, {0, 0, -20}, r}, {junction, arm1, r}, {junction, arm2, r}});
  const auto s = data::anatomy_stats(y.hu, y.lungs, no_blobs());
  EXPECT_EQ(s.vessel_components, 1);
  EXPECT_EQ(s.branch_points, 1) << "spurs pruned " << s.spurs_pruned;
  EXPECT_NEAR(s.centreline_mm, 18 + 2 * 14, 8);
  EXPECT_NEAR(s.median_radius_mm, r, 0.6);

  // Two separate tubes: two components, no branch point.
  LungBlock two({72, 40, 80}, {0.6, 0.6, 0.6}, {{{-10, 0, -15}, {-10, 0, 15}, r}, {{10, 0, -15}, {10, 0, 15}, r}});
  const auto t = data::anatomy_stats(two.hu, two.lungs, no_blobs());
  EXPECT_EQ(t.vessel_components, 2);
  EXPECT_EQ(t.branch_points, 0);
}

// Components by volume: single voxels, a 2 x 2 x 2 cube and a 5 mm tube land in their classes (edges 1, 4, 16, 64
// mm^3, per litre of lung). Catches a size counted in voxels instead of mm^3 (the classes would not move with the
// spacing) and a class edge off by one.
TEST(AnatomyStats, ComponentsAreCountedByVolumeClass) {
  const Eigen::Vector3d spacing(0.8, 0.8, 1.25);                       // 0.8 mm^3 per voxel
  LungBlock b({40, 40, 40}, spacing, {{{0, 8, -8}, {0, 8, 8}, 2.0}});  // 16 voxels across, 16 mm: >= 64 mm^3
  for (int n = 0; n < 3; ++n) b.hu.at(4 + 6 * n, 4, 4) = 40;           // three single voxels, 0.8 mm^3: < 1
  for (int k = 0; k < 2; ++k)                                          // a cube of 8 voxels, 6.4 mm^3: 4-16
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) b.hu.at(30 + i, 30 + j, 30 + k) = 40;
  const auto s = data::anatomy_stats(b.hu, b.lungs, no_blobs());
  EXPECT_EQ(s.vessel_components, 5);
  const double litres = 40 * 40 * 40 * spacing.prod() / 1e6;
  ASSERT_EQ(s.component_edges_mm3, (std::vector<double>{1, 4, 16, 64}));  // as documented in docs/data.md
  ASSERT_EQ(s.components_per_litre_by_size.size(), 5u);
  const std::vector<double> want = {3 / litres, 0, 1 / litres, 0, 1 / litres};
  for (std::size_t c = 0; c < want.size(); ++c)
    EXPECT_NEAR(s.components_per_litre_by_size[c], want[c], 1e-9) << "class " << c;
  const auto j = data::to_json(s);
  EXPECT_EQ(j["vessel_components_by_size"]["per_litre"].size(), 5u);
}

TEST(AnatomyStats, SkeletonOfABallIsOneVoxelAndOfACurveItself) {
  core::VolumeU8 ball(grid({21, 21, 21}, {1, 1, 1}), 0);
  for (int k = 0; k < 21; ++k)
    for (int j = 0; j < 21; ++j)
      for (int i = 0; i < 21; ++i)
        ball.at(i, j, k) = (Eigen::Vector3d(i, j, k) - Eigen::Vector3d(10, 10, 10)).norm() <= 7;
  const auto sk = data::skeletonize(ball);
  int count = 0;
  for (auto v : sk.values()) count += v;
  EXPECT_GE(count, 1);  // a ball thins to a point or a short curve (its topology, curve ends kept)
  EXPECT_LE(count, 5);
  // A one-voxel line is its own skeleton.
  core::VolumeU8 line(grid({21, 5, 5}, {1, 1, 1}), 0);
  for (int i = 2; i < 19; ++i) line.at(i, 2, 2) = 1;
  EXPECT_EQ(data::skeletonize(line).values(), line.values());
}

TEST(AnatomyStats, DistanceTransformIsExactWithAnisotropicSpacing) {
  core::VolumeU8 m(grid({9, 9, 9}, {0.5, 1.0, 2.0}), 1);
  m.at(4, 4, 4) = 0;
  const auto d = data::distance_to_outside_mm(m);
  EXPECT_FLOAT_EQ(d.at(4, 4, 4), 0.0f);
  EXPECT_FLOAT_EQ(d.at(5, 4, 4), 0.5f);
  EXPECT_FLOAT_EQ(d.at(4, 5, 5), float(std::sqrt(1.0 + 4.0)));
  // Beyond the border counts as outside: a corner voxel is one step from it.
  EXPECT_FLOAT_EQ(d.at(0, 4, 4), 0.5f);
  EXPECT_FLOAT_EQ(d.at(4, 8, 4), 1.0f);
}

TEST(AnatomyStats, LogResponseOfABallAtItsScaleIsItsContrastTimes0925) {
  const double sigma = 2.0, radius = std::sqrt(3.0) * sigma, contrast = 800;
  core::VolumeF img(grid({64, 64, 64}, {0.5, 0.5, 0.5}), 0.0f);
  for (int k = 0; k < 64; ++k)
    for (int j = 0; j < 64; ++j)
      for (int i = 0; i < 64; ++i)
        if (img.index_to_world(Eigen::Vector3d(i, j, k)).norm() <= radius) img.at(i, j, k) = float(contrast);
  const auto r = data::log_response(img, sigma);
  const Eigen::Vector3d c = img.world_to_index(Eigen::Vector3d::Zero());
  const double centre = r.at(int(std::floor(c.x())), int(std::floor(c.y())), int(std::floor(c.z())));
  EXPECT_NEAR(centre / contrast, 0.925, 0.05);
}

TEST(AnatomyStats, GaussianBlobsAreFoundAtTheirPositionsAboveTheThreshold) {
  core::VolumeF img(grid({90, 90, 60}, {0.8, 0.8, 1.0}), -850.0f);
  const std::vector<Eigen::Vector3d> strong = {{-15, -12, -8}, {14, 10, 6}, {-12, 16, 10}};
  const Eigen::Vector3d faint(15, -15, -10);
  const double tau = 2.5;
  for (int k = 0; k < 60; ++k)
    for (int j = 0; j < 90; ++j)
      for (int i = 0; i < 90; ++i) {
        const Eigen::Vector3d p = img.index_to_world(Eigen::Vector3d(i, j, k));
        double v = -850;
        for (const auto& c : strong) v += 800 * std::exp(-0.5 * (p - c).squaredNorm() / (tau * tau));
        v += 150 * std::exp(-0.5 * (p - faint).squaredNorm() / (tau * tau));
        img.at(i, j, k) = float(v);
      }
  const auto blobs = data::log_blobs(img, 10, 300, core::VolumeU8());
  ASSERT_EQ(blobs.size(), strong.size());
  for (const auto& c : strong) {
    double best = 1e9;
    for (const auto& b : blobs) best = std::min(best, (b.center_mm - c).norm());
    EXPECT_LT(best, 1.0) << c.transpose();
  }
  // The region restricts the maxima: only the half x < 0 holds two of them.
  core::VolumeU8 half(img.geometry(), 0);
  for (int k = 0; k < 60; ++k)
    for (int j = 0; j < 90; ++j)
      for (int i = 0; i < 45; ++i) half.at(i, j, k) = 1;
  EXPECT_EQ(data::log_blobs(img, 10, 300, half).size(), 2u);
  // A lower threshold finds the faint blob too.
  EXPECT_EQ(data::log_blobs(img, 10, 50, core::VolumeU8()).size(), 4u);
}

TEST(AnatomyStats, RejectsAnEmptyMaskAndBadOptions) {
  core::VolumeI16 hu(grid({20, 20, 20}, {1, 1, 1}), -850);
  core::VolumeU8 empty(hu.geometry(), 0);
  EXPECT_THROW(data::anatomy_stats(hu, empty), core::InputError);
  core::VolumeU8 other(grid({20, 20, 10}, {1, 1, 1}), 1);
  EXPECT_THROW(data::anatomy_stats(hu, other), core::InputError);
  data::AnatomyStatsOptions o;
  o.blob_diameters_mm = {0.2};
  EXPECT_THROW(o.validate(), core::ConfigError);
}
