#include <gtest/gtest.h>

#include <Eigen/LU>
#include <cmath>

#include "xraylift/core/camera.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"

using namespace xraylift::core;

namespace {
const Rig& default_ring() {
  static const Rig rig = Rig::ring(RingSpec{});
  return rig;
}
}  // namespace

// Hand computation for p = (10, 0, 20) mm (10 mm toward the patient's left, 20 mm toward the head),
// seed ring: SAD 300, SDD 600, 1024 px of 0.78125 mm -> f = 768 px, principal point (512, 512).
TEST(Camera, View0ProjectsByHand) {
  // View 0: source at (0, -300, 0) looking +y. x_cam = +x world, y_cam = -z world, depth = 300.
  const Camera& cam = default_ring()[0];
  const Eigen::Vector3d p(10, 0, 20);
  EXPECT_NEAR(cam.depth(p), 300.0, 1e-9);
  const Eigen::Vector2d uv = cam.project(p);
  EXPECT_NEAR(uv.x(), 512 + 768 * 10.0 / 300.0, 1e-9);  // 537.6: patient's left is image right in view 0
  EXPECT_NEAR(uv.y(), 512 - 768 * 20.0 / 300.0, 1e-9);  // 460.8: the head is image up
  EXPECT_NEAR(uv.x(), 537.6, 1e-9);
  EXPECT_NEAR(uv.y(), 460.8, 1e-9);
  EXPECT_NEAR((cam.source() - Eigen::Vector3d(0, -300, 0)).norm(), 0, 1e-9);
}

TEST(Camera, View1ProjectsByHand) {
  // View 1: theta = 36 deg. x_cam = (cos, sin, 0), z_cam = (-sin, cos, 0); x = 10 cos36, z = 300 - 10 sin36.
  const Camera& cam = default_ring()[1];
  const Eigen::Vector3d p(10, 0, 20);
  const Eigen::Vector2d uv = cam.project(p);
  EXPECT_NEAR(cam.depth(p), 294.12214747707526, 1e-9);
  EXPECT_NEAR(uv.x(), 533.1247285187318, 1e-9);
  EXPECT_NEAR(uv.y(), 459.77679908923824, 1e-9);
}

TEST(Camera, View5ProjectsByHand) {
  // View 5: theta = 180 deg, source posterior at (0, 300, 0) looking -y; image right is the patient's right.
  const Camera& cam = default_ring()[5];
  const Eigen::Vector3d p(10, 0, 20);
  EXPECT_NEAR(cam.depth(p), 300.0, 1e-9);
  const Eigen::Vector2d uv = cam.project(p);
  EXPECT_NEAR(uv.x(), 486.4, 1e-9);
  EXPECT_NEAR(uv.y(), 460.8, 1e-9);
}

TEST(Camera, IsocentreProjectsToDetectorCentreInEveryView) {
  for (const auto& cam : default_ring()) {
    const Eigen::Vector2d uv = cam.project(Eigen::Vector3d::Zero());
    EXPECT_NEAR(uv.x(), 512.0, 1e-9) << cam.name();
    EXPECT_NEAR(uv.y(), 512.0, 1e-9) << cam.name();
    EXPECT_NEAR(cam.depth(Eigen::Vector3d::Zero()), 300.0, 1e-9);
  }
}

TEST(Camera, UnprojectOfProjectIsTheRayThroughThePoint) {
  const Eigen::Vector3d points[] = {{10, 0, 20}, {-55.5, 31.2, -80}, {120, -40, 3}};
  for (const auto& cam : default_ring()) {
    for (const auto& p : points) {
      const Ray ray = cam.unproject(cam.project(p));
      EXPECT_NEAR(ray.direction.norm(), 1.0, 1e-12);
      EXPECT_NEAR((ray.origin - cam.source()).norm(), 0, 1e-9);
      // p lies on the ray: the component orthogonal to the direction vanishes.
      const Eigen::Vector3d d = p - ray.origin;
      EXPECT_NEAR((d - d.dot(ray.direction) * ray.direction).norm(), 0.0, 1e-9) << cam.name();
      EXPECT_GT(d.dot(ray.direction), 0);
      // And the depth-based lift returns p itself.
      EXPECT_NEAR((cam.unproject(cam.project(p), cam.depth(p)) - p).norm(), 0.0, 1e-9);
    }
  }
}

TEST(Camera, PixelCentreConvention) {
  // Pixel (col 511, row 511) has its centre at (511.5, 511.5); the principal ray hits the corner between
  // the four central pixels of an even-sized detector.
  const Camera& cam = default_ring()[0];
  EXPECT_DOUBLE_EQ(cam.intrinsics().cx, 512.0);
  const Ray r = cam.unproject(Eigen::Vector2d(512.0, 512.0));
  EXPECT_NEAR((r.direction - cam.viewing_direction()).norm(), 0, 1e-12);
  EXPECT_TRUE(cam.in_image({0.0, 0.0}));
  EXPECT_FALSE(cam.in_image({1024.0, 10.0}));
}

TEST(Camera, FrameIsRightHandedAndImageUpIsHead) {
  for (const auto& cam : default_ring()) {
    EXPECT_NEAR(cam.rotation().determinant(), 1.0, 1e-12);
    // y_cam = -z_world for every view of the ring.
    EXPECT_NEAR((cam.rotation().row(1).transpose() - Eigen::Vector3d(0, 0, -1)).norm(), 0, 1e-12);
  }
}

TEST(Camera, PodMatchesEigenCamera) {
  const Camera& cam = default_ring()[3];
  const PinholeF pod = cam.to_pod();
  const Eigen::Vector2d uv(100.25, 900.5);
  const Float3 d = pod.ray_direction(float(uv.x()), float(uv.y()));
  const Eigen::Vector3d dir = Eigen::Vector3d(d.x, d.y, d.z).normalized();
  EXPECT_NEAR((dir - cam.unproject(uv).direction).norm(), 0, 1e-6);
  EXPECT_NEAR((Eigen::Vector3d(pod.source[0], pod.source[1], pod.source[2]) - cam.source()).norm(), 0, 1e-4);
}

TEST(Camera, RejectsBadInput) {
  const Intrinsics k = Intrinsics::detector(600, 0.78125, 64, 64);
  Eigen::Matrix3d not_rotation = Eigen::Matrix3d::Identity() * 2;
  EXPECT_THROW(Camera(k, not_rotation, Eigen::Vector3d::Zero()), InputError);
  Eigen::Matrix3d reflection = Eigen::Matrix3d::Identity();
  reflection(0, 0) = -1;
  EXPECT_THROW(Camera(k, reflection, Eigen::Vector3d::Zero()), InputError);
  EXPECT_THROW(Camera(k, Eigen::Matrix3d::Identity(), Eigen::Vector3d(NAN, 0, 0)), InputError);
  EXPECT_THROW(Intrinsics::detector(600, 0, 64, 64), InputError);
  EXPECT_THROW(Intrinsics::detector(600, 1, 0, 64), InputError);
  EXPECT_THROW(Camera::look_at(k, {0, 0, 0}, {0, 0, 0}), InputError);
  EXPECT_THROW(Camera::look_at(k, {0, 0, -10}, {0, 0, 0}, {0, 0, 1}), InputError);  // up parallel to view
  try {
    Intrinsics::detector(-1, 1, 4, 4);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("sdd_mm = -1"), std::string::npos) << e.what();
  }
}

// Skew rays with known closest points (x-axis ray at z = 0, y-direction ray at x = 5, z = 2): pa = (5, 0, 0),
// pb = (5, 0, 2); parallel rays and a crossing behind a source give none.
TEST(Ray, ClosestPointsOfTwoRays) {
  const Ray a{{-10, 0, 0}, {1, 0, 0}};
  const Ray b{{5, -7, 2}, {0, 1, 0}};
  const auto c = closest_points(a, b, std::sin(10.0 * M_PI / 180.0));
  ASSERT_TRUE(c.has_value());
  EXPECT_NEAR(c->ta, 15, 1e-12);
  EXPECT_NEAR(c->tb, 7, 1e-12);
  EXPECT_NEAR((c->pa - Eigen::Vector3d(5, 0, 0)).norm(), 0, 1e-12);
  EXPECT_NEAR((c->pb - Eigen::Vector3d(5, 0, 2)).norm(), 0, 1e-12);
  EXPECT_FALSE(closest_points(a, Ray{{0, 3, 0}, {1, 0, 0}}, 0.0).has_value());  // parallel
  const Eigen::Vector3d tilted = Eigen::Vector3d(1, std::tan(5.0 * M_PI / 180.0), 0).normalized();
  EXPECT_FALSE(closest_points(a, Ray{{0, 3, 0}, tilted}, std::sin(10.0 * M_PI / 180.0)).has_value());  // 5 deg
  EXPECT_FALSE(closest_points(a, Ray{{5, 7, 2}, {0, 1, 0}}, 0.1).has_value());   // b's closest point behind b
  EXPECT_FALSE(closest_points(Ray{{10, 0, 0}, {1, 0, 0}}, b, 0.1).has_value());  // a's behind a
}
