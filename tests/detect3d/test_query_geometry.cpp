#include <gtest/gtest.h>

#include <random>

#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect3d/query_geometry.hpp"

using namespace xraylift;

TEST(QueryGeometry, RoiIntrinsicsMatchCropAndResize) {
  const core::Rig rig = core::Rig::ring(core::RingSpec{});
  const core::Camera& cam = rig[2];
  const core::Box2D roi{400.5, 300.25, 470.5, 340.25};
  const core::Intrinsics k = detect3d::roi_intrinsics(cam.intrinsics(), roi, 7, 7);
  const core::Camera roi_cam(k, cam.rotation(), cam.translation());
  const Eigen::Vector3d p(20, -15, 30);
  const Eigen::Vector2d full = cam.project(p);
  const Eigen::Vector2d in_roi = roi_cam.project(p);
  EXPECT_NEAR(in_roi.x(), (full.x() - roi.x0) * 7 / roi.width(), 1e-9);
  EXPECT_NEAR(in_roi.y(), (full.y() - roi.y0) * 7 / roi.height(), 1e-9);
  EXPECT_THROW(detect3d::roi_intrinsics(cam.intrinsics(), core::Box2D{5, 5, 5, 9}, 7, 7), core::InputError);
}

TEST(QueryGeometry, FrustumBoxContainsEveryFrustumPoint) {
  // Brute force: random points of the frustum (RoI x depth interval) project inside the returned box.
  const core::Rig rig = core::Rig::ring(core::RingSpec{});
  const core::Box2D roi{480, 490, 530, 540};
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int target = 1; target < 10; ++target) {
    const core::Box2D box = detect3d::frustum_box_in_view(rig[0], roi, 200, 400, rig[target]);
    for (int n = 0; n < 200; ++n) {
      const Eigen::Vector2d uv(roi.x0 + unit(rng) * roi.width(), roi.y0 + unit(rng) * roi.height());
      const Eigen::Vector3d p = rig[0].unproject(uv, 200 + 200 * unit(rng));
      const Eigen::Vector2d q = rig[target].project(p);
      EXPECT_GE(q.x(), box.x0 - 1e-6);
      EXPECT_LE(q.x(), box.x1 + 1e-6);
      EXPECT_GE(q.y(), box.y0 - 1e-6);
      EXPECT_LE(q.y(), box.y1 + 1e-6);
    }
  }
}

TEST(QueryGeometry, TrueNoduleIsSelectedInOtherViews) {
  // A nodule detected in view 0: in every other view its own detection overlaps the frustum most.
  const core::Rig rig = core::Rig::ring(core::RingSpec{});
  const Eigen::Vector3d nodule(40, 20, -30), decoy(-90, 60, 80);
  auto box_of = [](const core::Camera& cam, const Eigen::Vector3d& c) {
    const Eigen::Vector2d uv = cam.project(c);
    return core::Box2D{uv.x() - 10, uv.y() - 10, uv.x() + 10, uv.y() + 10};
  };
  const core::Box2D roi = box_of(rig[0], nodule);
  const double d = rig[0].depth(nodule);
  for (int v = 1; v < 10; ++v) {
    const core::Box2D frustum = detect3d::frustum_box_in_view(rig[0], roi, d - 30, d + 30, rig[v]);
    const auto picked = detect3d::top_k_by_iou(frustum, {box_of(rig[v], decoy), box_of(rig[v], nodule)}, 1);
    ASSERT_EQ(picked.size(), 1u) << "view " << v;
    EXPECT_EQ(picked[0], 1) << "view " << v;
  }
  EXPECT_TRUE(detect3d::top_k_by_iou(core::Box2D{0, 0, 1, 1}, {core::Box2D{5, 5, 6, 6}}, 3).empty());
}
