// The lungs from their path lengths (drr/lung_tomography.hpp): SIRT inside the visual hull recovers an ellipsoid pair
// from the exact path lengths of two views better than the hull of their silhouettes, the rule's path estimate, and
// bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/voxel_projection.hpp"
#include "xraylift/drr/lung_fields.hpp"
#include "xraylift/drr/lung_tomography.hpp"
#include "xraylift/drr/visual_hull.hpp"

using namespace xraylift;

namespace {

// Right (-x) and left (+x) ellipsoids with semi-axes (40, 55, 80) mm, 30 mm apart; labels right 1, left 2.
std::uint8_t pair_label(const Eigen::Vector3d& x) {
  const Eigen::Vector3d r(40, 55, 80);
  for (int side = 0; side < 2; ++side) {
    const Eigen::Vector3d c(side == 0 ? -55 : 55, 0, side == 0 ? 0 : -10);
    if ((x - c).cwiseQuotient(r).squaredNorm() < 1) return std::uint8_t(side + 1);
  }
  return 0;
}

core::VolumeU8 pair_mask(double voxel_mm) {
  core::VolumeGeometry g;
  g.spacing = Eigen::Vector3d::Constant(voxel_mm);
  const Eigen::Vector3d half(110, 75, 110);
  for (int a = 0; a < 3; ++a) g.dims[a] = int(std::ceil(2 * half[a] / voxel_mm));
  g.origin = -half + 0.5 * g.spacing;
  core::VolumeU8 m(g, 0);
  for (std::int64_t i = 0; i < g.voxel_count(); ++i) m.values()[std::size_t(i)] = pair_label(core::voxel_centre(g, i));
  return m;
}

double dice_against_pair(const core::VolumeU8& labels) {
  const auto& g = labels.geometry();
  double both = 0, a = 0, b = 0;
  for (std::int64_t i = 0; i < g.voxel_count(); ++i) {
    const bool in_model = labels.values()[std::size_t(i)] != 0, in_truth = pair_label(core::voxel_centre(g, i)) != 0;
    both += in_model && in_truth, a += in_model, b += in_truth;
  }
  return 2 * both / (a + b);
}

core::Rig two_views() {
  core::RingSpec ring;
  ring.views = 2, ring.angle_step_deg = 90;
  ring.detector.width = ring.detector.height = 96;
  ring.detector.pixel_size_mm = 1024.0 * 0.78125 / 96;
  return core::Rig::ring(ring);
}

}  // namespace

// Two orthogonal views: the hull is the intersection of two silhouette cylinders (Dice ~0.7: the corners neither view
// can carve); the path lengths say how much lung each ray crosses, and SIRT inside the hull recovers the pair.
// Catches: the back-projection at the wrong pixel (the update lands on other voxels), the correction not normalised by
// the support's path (it overshoots and oscillates), the labels lost, the residual not falling.
TEST(LungTomography, PathLengthsRecoverAnEllipsoidPairBetterThanItsHull) {
  const core::Rig rig = two_views();
  const core::VolumeU8 truth = pair_mask(2);
  const auto fields = drr::projected_lung_fields(truth, rig.cameras());
  const auto paths = drr::projected_lung_paths(truth, rig.cameras());
  drr::VisualHullOptions ho;
  ho.voxel_mm = 3, ho.min_views = 0;
  const auto hull = drr::carve_visual_hull(rig.cameras(), fields, ho);
  drr::LungTomographyOptions to;
  to.iterations = 30;
  to.threshold = 0.5;  // two views smear the occupancy more than ten: the default 0.35 is for the ring
  const auto tomo = drr::reconstruct_lungs(rig.cameras(), paths, hull, to);
  const double hull_dice = dice_against_pair(hull.labels), tomo_dice = dice_against_pair(tomo.lungs.labels);
  EXPECT_LT(hull_dice, 0.8);
  EXPECT_GT(tomo_dice, hull_dice + 0.1) << "hull " << hull_dice;
  ASSERT_EQ(tomo.residual_mm.size(), 30u);
  EXPECT_LT(tomo.residual_mm.back(), 0.5 * tomo.residual_mm.front());
  const double truth_ml = 2 * 4.0 / 3.0 * M_PI * 40 * 55 * 80 / 1000 / 2;
  EXPECT_NEAR(tomo.lungs.right_ml, truth_ml, 0.15 * truth_ml);
  EXPECT_NEAR(tomo.lungs.left_ml, truth_ml, 0.15 * truth_ml);
  // No iterations: the support itself.
  to.iterations = 0;
  EXPECT_NEAR(drr::reconstruct_lungs(rig.cameras(), paths, hull, to).lungs.total_ml(), hull.total_ml(), 1e-6);
}

// The rule's estimate: the deficit T - L / mu_water per mm of lung inside the field, 0 outside, never negative.
// Catches: mu_water not applied, the deficit used outside the field.
TEST(LungTomography, PathEstimateIsTheDeficitInsideTheField) {
  drr::ViewsLungs v;
  v.cameras = two_views().cameras();
  v.cameras.resize(1);
  const std::size_t n = std::size_t(v.cameras[0].width()) * v.cameras[0].height();
  v.mu_water_per_mm = 0.02;
  v.line_integrals.assign(1, std::vector<float>(n, 2.0f));  // 100 mm of water
  v.body_path_mm.assign(1, std::vector<float>(n, 185.0f));
  v.fields.assign(1, drr::Mask2D{v.cameras[0].width(), v.cameras[0].height(), std::vector<std::uint8_t>(n, 0)});
  v.fields[0].pixels[5] = 1, v.fields[0].pixels[6] = 1;
  v.line_integrals[0][6] = 5.0f;  // more than the body path: no lung
  const auto est = drr::lung_path_estimate(v);
  ASSERT_EQ(est.size(), 1u);
  EXPECT_NEAR(est[0][5], (185 - 100) / 0.85, 1e-3);
  EXPECT_EQ(est[0][6], 0.0f);
  EXPECT_EQ(est[0][7], 0.0f);
}

// Bad input: paths that do not match the cameras, an empty support, options out of range.
TEST(LungTomography, RejectsBadInput) {
  const core::Rig rig = two_views();
  const core::VolumeU8 truth = pair_mask(4);
  const auto paths = drr::projected_lung_paths(truth, rig.cameras());
  data::LungSegmentation empty;
  EXPECT_THROW(drr::reconstruct_lungs(rig.cameras(), paths, empty), core::InputError);
  data::LungSegmentation zero;
  zero.labels = core::VolumeU8(truth.geometry(), 0);
  EXPECT_THROW(drr::reconstruct_lungs(rig.cameras(), paths, zero), core::InputError);
  EXPECT_THROW(drr::reconstruct_lungs(rig.cameras(), {paths[0]}, zero), core::InputError);
  drr::LungTomographyOptions bad;
  bad.relaxation = 3;
  EXPECT_THROW(bad.validate(), core::ConfigError);
  bad = {};
  bad.threshold = 1;
  EXPECT_THROW(bad.validate(), core::ConfigError);
  EXPECT_THROW(drr::lung_path_estimate(drr::ViewsLungs{}, {}), core::InputError);
}
