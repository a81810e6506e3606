#include <gtest/gtest.h>

#include <random>

#include "xraylift/core/box.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/core/rig.hpp"

using namespace xraylift::core;

TEST(Box3D, CornersAndIoU) {
  const Box3D a{{0, 0, 0}, {2, 2, 2}};
  const Box3D b{{1, 0, 0}, {2, 2, 2}};
  EXPECT_DOUBLE_EQ(a.volume(), 8.0);
  EXPECT_NEAR(iou(a, b), 4.0 / 12.0, 1e-12);  // overlap 1 x 2 x 2
  EXPECT_NEAR(iou(a, a), 1.0, 1e-12);
  EXPECT_NEAR(iou(a, Box3D{{10, 0, 0}, {1, 1, 1}}), 0.0, 1e-12);
  const Box3D c{{5, 5, 5}, {1, 2, 4}};
  EXPECT_NEAR(aligned_iou(a, c), 4.0 / (8 + 8 - 4), 1e-12);  // min sizes 1 x 2 x 2
  for (const auto& p : a.corners()) EXPECT_TRUE(a.contains(p));
}

TEST(Box2D, IoUAndClip) {
  const Box2D a{0, 0, 10, 10};
  const Box2D b{5, 5, 15, 15};
  EXPECT_NEAR(iou(a, b), 25.0 / 175.0, 1e-12);
  const Box2D c = Box2D{-5, 3, 20, 8}.clipped(10, 10);
  EXPECT_DOUBLE_EQ(c.x0, 0);
  EXPECT_DOUBLE_EQ(c.x1, 10);
  EXPECT_TRUE((Box2D{3, 3, 3, 9}).empty());
}

TEST(Projection, BoxOfPointSetContainsAllProjectedPoints) {
  // The 3D bounding box of a random point set projects to a 2D box that contains every projected point.
  const Rig rig = Rig::ring(RingSpec{});
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-60, 60);
  std::vector<Eigen::Vector3d> pts;
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e9), hi = -lo;
  for (int n = 0; n < 50; ++n) {
    const Eigen::Vector3d p(u(rng), u(rng), u(rng));
    pts.push_back(p);
    lo = lo.cwiseMin(p);
    hi = hi.cwiseMax(p);
  }
  const Box3D box = Box3D::from_min_max(lo, hi);
  for (const auto& cam : rig) {
    const ProjectedBox pb = project_box(cam, box);
    ASSERT_TRUE(pb.visible);
    EXPECT_NEAR(pb.truncation, 0.0, 1e-12);
    for (const auto& p : pts) {
      const Eigen::Vector2d uv = cam.project(p);
      EXPECT_GE(uv.x(), pb.box.x0 - 1e-9);
      EXPECT_LE(uv.x(), pb.box.x1 + 1e-9);
      EXPECT_GE(uv.y(), pb.box.y0 - 1e-9);
      EXPECT_LE(uv.y(), pb.box.y1 + 1e-9);
    }
    EXPECT_NEAR((pb.center_uv - cam.project(box.center)).norm(), 0, 1e-9);
    EXPECT_NEAR(pb.center_depth, cam.depth(box.center), 1e-9);
  }
}

TEST(Projection, ClippingTruncationAndInvisibleBoxes) {
  const Rig rig = Rig::ring(RingSpec{});
  // Far off to the side: outside every view's field of view (400 mm at the isocentre).
  const ProjectedBox out = project_box(rig[0], Box3D{{0, 0, 2000}, {10, 10, 10}});
  EXPECT_FALSE(out.visible);
  // Straddling the image's left edge in view 0 (x = -200 mm is u = 0 at the isocentre plane).
  const ProjectedBox half = project_box(rig[0], Box3D{{-200, 0, 0}, {20, 20, 20}});
  EXPECT_TRUE(half.visible);
  EXPECT_DOUBLE_EQ(half.box.x0, 0.0);
  EXPECT_GT(half.truncation, 0.3);
  EXPECT_LT(half.truncation, 0.7);
  // Behind the source.
  EXPECT_FALSE(project_box(rig[0], Box3D{{0, -400, 0}, {10, 10, 10}}).visible);
}

TEST(Box3D, ValidateNamesWhere) {
  try {
    validate_box(Box3D{{0, 0, 0}, {1, -2, 1}}, "truth.json: case A box 3");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truth.json: case A box 3: size[1] = -2"), std::string::npos) << e.what();
  }
}
