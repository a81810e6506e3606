#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "xraylift/core/error.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect3d/mv2d_config.hpp"
#include "xraylift/detect3d/mv2d_geometry.hpp"

using namespace xraylift;

namespace {

Eigen::Vector2d roi_grid_of(const Eigen::Matrix4d& k, const Eigen::Vector3d& p_cam) {
  const Eigen::Vector4d h = k * Eigen::Vector4d(p_cam.x(), p_cam.y(), p_cam.z(), 1.0);
  return {h.x() / h.z(), h.y() / h.z()};
}

}  // namespace

TEST(Mv2dGeometry, RoiIntrinsicsIdentities) {
  // MV2D's RoI grid has cell centres at integers: (3, 3) is the box centre, (-0.5, -0.5) its corner (x0, y0).
  const core::Rig rig = core::Rig::ring(core::RingSpec{});
  const core::Camera& cam = rig[3];
  const core::Box2D roi{401.25, 288.5, 437.75, 330.0};
  const Eigen::Matrix4d k = detect3d::mv2d_roi_intrinsics(cam.intrinsics(), roi, 7);
  for (double d : {250.0, 300.0, 420.0}) {
    const Eigen::Vector3d centre = cam.to_camera(cam.unproject(roi.center(), d));
    const Eigen::Vector2d g = roi_grid_of(k, centre);
    EXPECT_NEAR(g.x(), 3.0, 1e-9);
    EXPECT_NEAR(g.y(), 3.0, 1e-9);
    const Eigen::Vector3d corner = cam.to_camera(cam.unproject(Eigen::Vector2d(roi.x0, roi.y0), d));
    const Eigen::Vector2d c = roi_grid_of(k, corner);
    EXPECT_NEAR(c.x(), -0.5, 1e-9);
    EXPECT_NEAR(c.y(), -0.5, 1e-9);
    const Eigen::Vector3d far = cam.to_camera(cam.unproject(Eigen::Vector2d(roi.x1, roi.y1), d));
    EXPECT_NEAR(roi_grid_of(k, far).x(), 6.5, 1e-9);
    EXPECT_NEAR(roi_grid_of(k, far).y(), 6.5, 1e-9);
  }
  // The lift used by the head inverts it.
  const Eigen::Vector2d px = detect3d::roi_grid_to_pixel(roi, 7, Eigen::Vector2d(3, 3));
  EXPECT_NEAR(px.x(), roi.center().x(), 1e-12);
  EXPECT_NEAR(px.y(), roi.center().y(), 1e-12);
  EXPECT_THROW(detect3d::mv2d_roi_intrinsics(cam.intrinsics(), core::Box2D{5, 5, 5, 9}, 7), core::InputError);
}

TEST(Mv2dGeometry, SceneDepthSpanIsTheRangesClosedFormDepths) {
  // Ring view at angle t looks along (-sin t, cos t, 0) from SAD (sin t, -cos t, 0): a point's depth is
  // SAD + p . direction, so over the cube [-h, h]^3 the depths span SAD -+ h (|sin t| + |cos t|).
  const core::Rig rig = core::Rig::ring(core::RingSpec{});
  const double sad = 300, h = 200;
  detect3d::SceneRange range;  // [-200, 200]^3
  for (std::size_t v = 0; v < rig.size(); ++v) {
    const double t = 36.0 * static_cast<double>(v) * M_PI / 180;
    const double reach = h * (std::abs(std::sin(t)) + std::abs(std::cos(t)));
    const auto [near, far] = detect3d::scene_depth_span(rig[v], range);
    EXPECT_NEAR(near, sad - reach, 1e-9) << "view " << v;
    EXPECT_NEAR(far, sad + reach, 1e-9) << "view " << v;
  }
  // A range reaching behind the source: the near depth clamps to 1 mm, the far one stays the closed form.
  detect3d::SceneRange deep;
  deep.min_mm = Eigen::Vector3d(-100, -400, -100);
  deep.max_mm = Eigen::Vector3d(100, 400, 100);
  const auto [near0, far0] = detect3d::scene_depth_span(rig[0], deep);  // view 0: depth = 300 + y
  EXPECT_DOUBLE_EQ(near0, 1.0);
  EXPECT_NEAR(far0, 700.0, 1e-9);
  // Wholly behind view 0's source (depths -700 .. -400): refused.
  detect3d::SceneRange behind;
  behind.min_mm = Eigen::Vector3d(-100, -1000, -100);
  behind.max_mm = Eigen::Vector3d(100, -700, 100);
  EXPECT_THROW(detect3d::scene_depth_span(rig[0], behind), core::InputError);
}

TEST(Mv2dGeometry, CorrelationLinksOneNodulesRoisAcrossAllViews) {
  // Projected ground truth of nodules at distinct heights, listed in a different order in every view.
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(256);
  const std::vector<core::Box3D> nodules = {
      {Eigen::Vector3d(-60, 10, 80), Eigen::Vector3d(12, 12, 12)},
      {Eigen::Vector3d(70, -20, 20), Eigen::Vector3d(10, 10, 10)},
      {Eigen::Vector3d(30, 40, -50), Eigen::Vector3d(14, 13, 12)},
      {Eigen::Vector3d(-20, -50, -110), Eigen::Vector3d(11, 11, 11)},
  };
  std::mt19937 rng(5);
  std::vector<std::vector<core::Box2D>> rois(rig.size());
  std::vector<std::vector<int>> nodule_of(rig.size());
  for (std::size_t v = 0; v < rig.size(); ++v) {
    std::vector<int> order = {0, 1, 2, 3};
    std::shuffle(order.begin(), order.end(), rng);
    for (int n : order) {
      const auto p = core::project_box(rig[v], nodules[n]);
      ASSERT_TRUE(p.visible);
      rois[v].push_back(p.box);
      nodule_of[v].push_back(n);
    }
  }
  const auto corr = detect3d::correlate_rois(rig.cameras(), rois, detect3d::SceneRange{});
  ASSERT_EQ(corr.size(), rig.size() * nodules.size());
  std::vector<std::pair<int, int>> global;  // (view, index in view) of each global index
  for (std::size_t v = 0; v < rig.size(); ++v)
    for (std::size_t i = 0; i < rois[v].size(); ++i) global.emplace_back(int(v), int(i));
  // Views up to 108 deg apart see the frustum as a thin band along the epipolar line: every link must be right.
  // Near-opposite views (144, 180 deg) see it as a long band through the epipole near the image centre, which can
  // cover another nodule's box too (docs/detect3d.md): there at least 90 % of the links must be right.
  int far_links = 0, far_right = 0;
  for (std::size_t g = 0; g < corr.size(); ++g) {
    const auto [v, i] = global[g];
    ASSERT_EQ(corr[g].size(), rig.size());
    EXPECT_EQ(corr[g][v], int(g));
    for (std::size_t w = 0; w < rig.size(); ++w) {
      ASSERT_GE(corr[g][w], 0) << "query " << g << " has no key in view " << w;
      const auto [wv, wi] = global[corr[g][w]];
      EXPECT_EQ(wv, int(w));
      const int steps = std::min<int>((int(w) - v + 10) % 10, (v - int(w) + 10) % 10);
      const bool right = nodule_of[wv][wi] == nodule_of[v][i];
      if (steps <= 3) {
        EXPECT_TRUE(right) << "view " << v << " nodule " << nodule_of[v][i] << " linked to another nodule in view "
                           << w;
      } else {
        ++far_links;
        far_right += right;
      }
    }
  }
  EXPECT_GE(far_right, 0.9 * far_links) << far_right << " of " << far_links << " near-opposite links are right";
}

// The "rays" depth prior on projected ground truth: every RoI of a nodule gets its centre's depth (within the
// offset between a box's 2D centre and its centre's projection, ~10 % of the size), with false positives added
// in every view, with the nodule missing from 7 of the 10 views, and none where fewer than min_views agree.
TEST(Mv2dGeometry, RayDepthPriorFindsTheNodulesDepthInEveryView) {
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(256);
  const std::vector<core::Box3D> nodules = {
      {Eigen::Vector3d(-60, 10, 80), Eigen::Vector3d(12, 12, 12)},
      {Eigen::Vector3d(70, -20, 20), Eigen::Vector3d(6, 6, 6)},
      {Eigen::Vector3d(30, 40, -50), Eigen::Vector3d(14, 13, 12)},
      {Eigen::Vector3d(-20, -50, -110), Eigen::Vector3d(11, 11, 11)},
  };
  const int V = int(rig.size());
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> pos(20, 230), side(4, 12);
  auto build = [&](bool false_positives, int views_with_nodule0) {
    std::vector<std::vector<core::Box2D>> rois(V);
    std::vector<std::vector<int>> nodule_of(V);
    for (int v = 0; v < V; ++v) {
      for (int n = 0; n < int(nodules.size()); ++n) {
        if (n == 0 && v >= views_with_nodule0) continue;
        rois[v].push_back(core::project_box(rig[v], nodules[n]).box);
        nodule_of[v].push_back(n);
      }
      for (int k = 0; false_positives && k < 8; ++k) {
        const double x = pos(rng), y = pos(rng), w = side(rng);
        rois[v].push_back({x, y, x + w, y + w});
        nodule_of[v].push_back(-1);
      }
    }
    return std::make_pair(rois, nodule_of);
  };
  for (const bool fps : {false, true}) {
    const auto [rois, nodule_of] = build(fps, V);
    const auto depth = detect3d::ray_consensus_depths(rig.cameras(), rois, detect3d::RayDepthOptions{});
    std::size_t g = 0;
    for (int v = 0; v < V; ++v)
      for (std::size_t i = 0; i < rois[v].size(); ++i, ++g) {
        const int n = nodule_of[v][i];
        if (n < 0) continue;
        const double truth = rig[v].depth(nodules[n].center);
        ASSERT_TRUE(std::isfinite(depth[g])) << "view " << v << " nodule " << n << (fps ? " with FPs" : "");
        EXPECT_NEAR(depth[g], truth, 0.1 * nodules[n].size.maxCoeff() + 0.5) << "view " << v << " nodule " << n;
      }
    ASSERT_EQ(g, depth.size());
  }
  // Nodule 0 seen in views 0..2 only: their RoIs still agree (2 other views each), the rest have no RoI of it.
  const auto [rois, nodule_of] = build(false, 3);
  auto depth = detect3d::ray_consensus_depths(rig.cameras(), rois, detect3d::RayDepthOptions{});
  EXPECT_NEAR(depth[0], rig[0].depth(nodules[0].center), 1.7);
  detect3d::RayDepthOptions strict;
  strict.min_views = 3;  // only 2 other views see nodule 0
  depth = detect3d::ray_consensus_depths(rig.cameras(), rois, strict);
  EXPECT_FALSE(std::isfinite(depth[0]));
  EXPECT_TRUE(std::isfinite(depth[1]));
  strict.window_mm = 0;
  EXPECT_THROW(strict.validate(), core::ConfigError);
  EXPECT_THROW(detect3d::ray_consensus_depths(rig.cameras(), {{}}, detect3d::RayDepthOptions{}), core::InputError);
}

TEST(Mv2dGeometry, RayDepthSpanIsTheRaysSegmentInsideTheRange) {
  const core::Rig rig = core::Rig::ring(core::RingSpec{});
  detect3d::SceneRange range;
  // The principal ray of view 0 runs along +y through the isocentre: it crosses y = -200 .. 200 at depths 100 .. 500.
  const auto [near, far] = detect3d::ray_depth_span(rig[0], Eigen::Vector2d(512, 512), range);
  EXPECT_NEAR(near, 100.0, 1e-9);
  EXPECT_NEAR(far, 500.0, 1e-9);
  // An oblique view's ray is clipped by the x slabs too: brute force along the ray.
  const Eigen::Vector2d uv(300, 700);
  const auto [n2, f2] = detect3d::ray_depth_span(rig[3], uv, range);
  double lo = 1e9, hi = -1e9;
  for (double d = 1; d < 900; d += 0.01)
    if (range.contains(rig[3].unproject(uv, d))) lo = std::min(lo, d), hi = std::max(hi, d);
  EXPECT_NEAR(n2, lo, 0.02);
  EXPECT_NEAR(f2, hi, 0.02);
}

TEST(Mv2dGeometry, BoxPolygonIouAgainstBruteForce) {
  const std::vector<Eigen::Vector2d> tri = {{0, 0}, {10, 0}, {0, 10}};  // area 50
  EXPECT_NEAR(detect3d::box_polygon_iou(core::Box2D{0, 0, 10, 10}, tri), 0.5, 1e-12);
  EXPECT_NEAR(detect3d::box_polygon_iou(core::Box2D{20, 20, 30, 30}, tri), 0.0, 1e-12);
  // A random box against a random frustum hull: count lattice points.
  const core::Rig rig = core::Rig::ring(core::RingSpec{}).with_detector_width(128);
  const core::Box2D roi{50, 40, 62, 55};
  const auto hull = detect3d::frustum_polygon_in_view(rig[0], roi, 150, 450, rig[2]);
  ASSERT_GE(hull.size(), 3u);
  double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
  for (const auto& p : hull)
    x0 = std::min(x0, p.x()), y0 = std::min(y0, p.y()), x1 = std::max(x1, p.x()), y1 = std::max(y1, p.y());
  const core::Box2D box{0.5 * (x0 + x1) - 6, 0.5 * (y0 + y1) - 5, 0.5 * (x0 + x1) + 7, 0.5 * (y0 + y1) + 4};
  auto inside_hull = [&](double x, double y) {
    for (std::size_t i = 0; i < hull.size(); ++i) {
      const auto& a = hull[i];
      const auto& b = hull[(i + 1) % hull.size()];
      if ((b.x() - a.x()) * (y - a.y()) - (b.y() - a.y()) * (x - a.x()) < 0) return false;
    }
    return true;
  };
  double inter = 0, in_hull = 0;
  const double step = 0.02;
  for (double x = std::min(x0, box.x0); x < std::max(x1, box.x1); x += step)
    for (double y = std::min(y0, box.y0); y < std::max(y1, box.y1); y += step) {
      const bool h = inside_hull(x, y), b = x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1;
      in_hull += h;
      inter += h && b;
    }
  const double brute = inter / (in_hull + box.area() / (step * step) - inter);
  EXPECT_NEAR(detect3d::box_polygon_iou(box, hull), brute, 0.01);
}

TEST(Mv2dGeometry, FrustumHullSkipsPointsBehindTheTarget) {
  const core::Rig rig = core::Rig::ring(core::RingSpec{});
  // A RoI right of view 0's centre (cx = 512): far beyond the isocentre, its frustum passes behind view 5's source
  // (the opposite side). The points in front of view 5 project to one side of its centre; points behind it would
  // project, mirrored through the centre, to the other side.
  const core::Box2D roi{600, 500, 624, 524};
  const double near = 10, far = 2000;
  const int grid = 4, depths = 8;
  const auto hull = detect3d::frustum_hull_in_view(rig[0], roi, near, far, rig[5], grid, depths);
  // Brute force over the same samples: grid x grid points of the RoI at `depths` depths, those in front only.
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  int in_front = 0, behind = 0;
  for (int k = 0; k < depths; ++k)
    for (int i = 0; i < grid; ++i)
      for (int j = 0; j < grid; ++j) {
        const double d = near + (far - near) * k / (depths - 1);
        const Eigen::Vector2d uv(roi.x0 + roi.width() * i / (grid - 1), roi.y0 + roi.height() * j / (grid - 1));
        const Eigen::Vector3d p = rig[0].unproject(uv, d);
        if (rig[5].depth(p) < 1.0) {
          ++behind;
          continue;
        }
        ++in_front;
        const Eigen::Vector2d q = rig[5].project(p);
        x0 = std::min(x0, q.x()), y0 = std::min(y0, q.y()), x1 = std::max(x1, q.x()), y1 = std::max(y1, q.y());
      }
  ASSERT_GT(behind, 0);  // the case this test is about
  ASSERT_GT(in_front, 0);
  EXPECT_NEAR(hull.x0, x0, 1e-9);
  EXPECT_NEAR(hull.y0, y0, 1e-9);
  EXPECT_NEAR(hull.x1, x1, 1e-9);
  EXPECT_NEAR(hull.y1, y1, 1e-9);
  const double cx = rig[5].intrinsics().cx;
  EXPECT_TRUE(hull.x1 < cx || hull.x0 > cx) << "the hull spans both sides of the centre: a point behind was projected";
  // Nothing in front of the target: an empty box.
  EXPECT_TRUE(detect3d::frustum_hull_in_view(rig[0], roi, 700, 2000, rig[5], grid, depths).empty());
  EXPECT_THROW(detect3d::frustum_hull_in_view(rig[0], roi, 0, 10, rig[5]), core::InputError);
}

TEST(Mv2dConfig, ReadsKeysAndRejectsBadValues) {
  const auto cfg = core::Config::from_yaml(
      "mv2d: {d_model: 64, heads: 4, layers: 2, query_generator: {fc: 128, mlp: [64, 32]}, test: {top_k: 7}}\n",
      "test.yaml");
  const auto m = detect3d::Mv2dConfig::from_config(cfg.section("mv2d"));
  EXPECT_EQ(m.d_model, 64);
  EXPECT_EQ(m.layers, 2);
  EXPECT_EQ(m.qg_mlp, (std::vector<int>{64, 32}));
  EXPECT_EQ(m.top_k, 7);
  EXPECT_DOUBLE_EQ(m.range.max_mm.x(), 200);  // the shared detect3d.scene's default; the job sets it
  EXPECT_TRUE(cfg.unknown_keys().empty());
  auto bad = [](const std::string& yaml) {
    return detect3d::Mv2dConfig::from_config(core::Config::from_yaml(yaml, "bad.yaml").section("mv2d"));
  };
  EXPECT_THROW(bad("mv2d: {d_model: 60, heads: 8}\n"), core::ConfigError);
  EXPECT_THROW(bad("mv2d: {proposals: {score_threshold: 1.5}}\n"), core::ConfigError);
  EXPECT_EQ(m.depth_prior, "iso");  // the official prior unless asked
  EXPECT_EQ(bad("mv2d: {query_generator: {depth_prior: rays, ray_min_views: 3}}\n").ray_depth.min_views, 3);
  EXPECT_THROW(bad("mv2d: {query_generator: {depth_prior: stereo}}\n"), core::ConfigError);
  EXPECT_THROW(bad("mv2d: {query_generator: {max_ray_distance_mm: -1}}\n"), core::ConfigError);
  // The ray rule has one set of names (triangulate's): the old ones are unknown keys now.
  EXPECT_THROW(bad("mv2d: {query_generator: {ray_gate_mm: 5}}\n"), core::ConfigError);
  EXPECT_DOUBLE_EQ(bad("mv2d: {query_generator: {ray_distance_fraction: 0.5}}\n").ray_depth.rays.ray_distance_fraction,
                   0.5);
  // The scene box is the shared detect3d.scene now (metre scales refused there, test Method.*): a range here is an
  // unknown key.
  EXPECT_THROW(bad("mv2d: {range: {min_mm: [-150, -150, -150], max_mm: [150, 150, 150]}}\n"), core::ConfigError);
  try {
    bad("mv2d: {layers: 0}\n");
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("layers"), std::string::npos);
  }
}
