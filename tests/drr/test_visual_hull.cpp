// The visual hull (drr/visual_hull.hpp) against an analytic case, the lungs of a rendered phantom, and bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "drr_test_util.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/drr/render.hpp"
#include "xraylift/drr/visual_hull.hpp"
#include "xraylift/testing/phantoms.hpp"

using namespace xraylift;

namespace {

using drr::fixture::default_ring;

// The exact silhouette of a ball: pixels whose centre ray passes within r of c.
std::vector<drr::Mask2D> ball_fields(const core::Rig& rig, const Eigen::Vector3d& c, double r) {
  std::vector<drr::Mask2D> out;
  for (const auto& cam : rig.cameras()) {
    drr::Mask2D m{cam.width(), cam.height(), std::vector<std::uint8_t>(std::size_t(cam.width()) * cam.height())};
    for (int row = 0; row < cam.height(); ++row)
      for (int col = 0; col < cam.width(); ++col) {
        const core::Ray ray = cam.unproject(Eigen::Vector2d(col + 0.5, row + 0.5));
        const Eigen::Vector3d w = c - ray.origin;
        const double d = (w - w.dot(ray.direction) * ray.direction).norm();
        m.pixels[std::size_t(row) * cam.width() + col] = d < r;
      }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

// The hull of a ball seen by a ring of 10 views contains the ball and is at most a little larger: each axial slice
// is bounded by the 20 tangent planes of the ring's silhouette cones, a 20-gon around the slice's circle (area
// ratio 20 tan(9 deg) / pi = 1.008), widened by perspective; the fields are sampled at pixel centres (a pixel is
// ~3 mm at the isocentre here), so the hull may lose up to half a pixel at the surface (3 x 1.5 / 50 = 9 % at
// worst, ~1-2 % measured) and keeps every voxel deeper than one voxel.
// Catches: a wrong projection (u/v swapped, rows flipped: the off-centre ball is carved away), a wrong voxel order.
TEST(VisualHull, BallFromARingContainsTheBallWithinTheHullBound) {
  const core::Rig rig = default_ring(128);
  const Eigen::Vector3d c(20, -10, 15);
  const double r = 50;
  drr::VisualHullOptions o;
  o.voxel_mm = 2.5;
  o.min_views = 0;
  o.auto_box = false;
  o.box = core::Box3D{c, Eigen::Vector3d::Constant(2.6 * r)};
  o.midline_x_mm = 1e6;  // everything is "right": one component
  const auto seg = drr::carve_visual_hull(rig.cameras(), ball_fields(rig, c, r), o);
  const double ball_ml = 4.0 / 3.0 * M_PI * r * r * r / 1000.0;
  EXPECT_GT(seg.right_ml, 0.95 * ball_ml);
  EXPECT_LT(seg.right_ml, 1.12 * ball_ml);
  // Every voxel whose cell lies inside the ball is kept.
  const auto& g = seg.labels.geometry();
  std::int64_t missing = 0;
  for (std::int64_t i = 0; i < g.voxel_count(); ++i) {
    const Eigen::Vector3d x =
        g.index_to_world(Eigen::Vector3d(double(i % g.dims.x()), double((i / g.dims.x()) % g.dims.y()),
                                         double(i / (std::int64_t(g.dims.x()) * g.dims.y()))));
    if ((x - c).norm() < r - o.voxel_mm) missing += seg.labels.values()[i] == 0;
  }
  EXPECT_EQ(missing, 0);
}

// min_views: with one view's field emptied, every-view carving loses the ball, all-but-one keeps it.
// Catches: min_views ignored or counted the wrong way.
TEST(VisualHull, AllButOneViewSurvivesAMissingField) {
  const core::Rig rig = default_ring(64);
  auto fields = ball_fields(rig, Eigen::Vector3d::Zero(), 60);
  std::fill(fields[3].pixels.begin(), fields[3].pixels.end(), 0);
  drr::VisualHullOptions o;
  o.voxel_mm = 5;
  o.auto_box = false;
  o.box = core::Box3D{Eigen::Vector3d::Zero(), Eigen::Vector3d::Constant(160)};
  o.min_views = 0;
  EXPECT_THROW(drr::carve_visual_hull(rig.cameras(), fields, o), core::InputError);
  o.min_views = -1;
  const auto seg = drr::carve_visual_hull(rig.cameras(), fields, o);
  EXPECT_GT(seg.right_ml + seg.left_ml, 0.9 * 4.0 / 3.0 * M_PI * 60 * 60 * 60 / 1000.0);  // 5 mm voxels, 64 px
  EXPECT_GT(seg.right_ml, 0);                                                             // split at x = 0: both sides
  EXPECT_GT(seg.left_ml, 0);
}

// Bad input: a grid over max_voxels is a usage error naming the grid; fields that do not match the cameras and
// no cameras are data errors.
TEST(VisualHull, RejectsBadInput) {
  const core::Rig rig = default_ring(32);
  const auto fields = ball_fields(rig, Eigen::Vector3d::Zero(), 60);
  drr::VisualHullOptions o;
  o.voxel_mm = 1;
  o.max_voxels = 1000;
  try {
    drr::carve_visual_hull(rig.cameras(), fields, o);
    FAIL() << "expected ConfigError";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("max_voxels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(drr::carve_visual_hull({}, {}, {}), core::InputError);
  auto fewer = fields;
  fewer.pop_back();
  EXPECT_THROW(drr::carve_visual_hull(rig.cameras(), fewer, {}), core::InputError);
  drr::VisualHullOptions bad;
  bad.min_views = 11;
  EXPECT_THROW(drr::carve_visual_hull(rig.cameras(), fields, bad), core::ConfigError);
}

// A small rendered phantom: the lung fields against its projected lung mask and the hull against the mask
// (measured at 256 px on the benchmark: field Dice ~0.85, hull Dice ~0.8; docs/viz.md). Catches: a field rule
// that follows thickness rather than lung (the oblique views' thin body edge), a hull carved by a wrong camera.
TEST(LungFields, RenderedPhantomMatchesItsProjectedLungs) {
  const data::Phantom ph = xraylift::testing::make_phantom(7, {96, 96, 64}, {3.6, 3.6, 5.0}, 0, 4, 8, false);
  const core::VolumeU8 lungs = drr::fixture::lung_mask(ph.labels);
  const core::Rig rig = default_ring(96);
  const drr::DrrImages img = drr::render(ph.ct.hu, rig, drr::RenderOptions{});
  std::vector<std::vector<float>> views;
  for (int v = 0; v < img.views; ++v) views.emplace_back(img.view(v), img.view(v) + img.view_pixels());
  drr::VisualHullOptions ho;
  ho.voxel_mm = 5;
  const drr::ViewsLungs fit = drr::lungs_from_images(views, rig.cameras(), {}, ho);
  const auto labels = drr::projected_lung_fields(lungs, rig.cameras());
  double dice = 0;
  for (std::size_t v = 0; v < labels.size(); ++v) dice += drr::mask_dice(labels[v], fit.fields[v]) / labels.size();
  EXPECT_GT(dice, 0.75);
  const double truth_ml = data::label_volume_ml(lungs, 1);
  EXPECT_NEAR(fit.lungs.total_ml(), truth_ml, 0.3 * truth_ml);
  EXPECT_GT(fit.lungs.right_ml, 0.3 * fit.lungs.total_ml());
  EXPECT_GT(fit.lungs.left_ml, 0.3 * fit.lungs.total_ml());
}
