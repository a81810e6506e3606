#pragma once
// The one camera convention of the project (docs/ARCHITECTURE.md "Conventions"):
//   camera frame: OpenCV/MMDetection3D: +z from the X-ray source (pinhole) toward the isocentre,
//                 +y down in the image, +x right in the image; right-handed.
//   world -> camera: p_cam = R p + t.   pixel: u = fx x/z + cx, v = fy y/z + cy.
//   pixels are continuous: pixel (col,row) covers [col,col+1) x [row,row+1); its centre is (col+0.5, row+0.5).
#include <Eigen/Core>
#include <optional>
#include <string>

#include "xraylift/core/hd_camera.hpp"

namespace xraylift::core {

struct Intrinsics {
  double fx = 0, fy = 0;  // pixels
  double cx = 0, cy = 0;  // pixels, continuous coordinates
  int width = 0, height = 0;

  Eigen::Matrix3d matrix() const;
  // Detector model: fx = fy = sdd / pixel size, principal point at the detector centre.
  static Intrinsics detector(double sdd_mm, double pixel_size_mm, int width, int height);
};

struct Ray {
  Eigen::Vector3d origin;     // world mm (the source)
  Eigen::Vector3d direction;  // unit, world
};

// The closest points of two rays: pa = a.origin + ta a.direction, pb = b.origin + tb b.direction (mm).
struct RayClosestPoints {
  double ta = 0, tb = 0;
  Eigen::Vector3d pa, pb;
};
// nullopt when the rays are closer to parallel (or anti-parallel) than the angle whose sine is min_sin, or when a
// closest point lies behind its ray's origin (ta or tb <= 0, i.e. behind a source).
std::optional<RayClosestPoints> closest_points(const Ray& a, const Ray& b, double min_sin);

class Camera {
 public:
  Camera() = default;
  // Validates: finite values, positive focal lengths and image size, R orthonormal with det +1.
  Camera(const Intrinsics& intrinsics, const Eigen::Matrix3d& rotation, const Eigen::Vector3d& translation,
         std::string name = "");

  // A camera at `source` looking at `target`, with image-up (-y_cam) as close as possible to `world_up`.
  static Camera look_at(const Intrinsics& intrinsics, const Eigen::Vector3d& source, const Eigen::Vector3d& target,
                        const Eigen::Vector3d& world_up = Eigen::Vector3d::UnitZ(), std::string name = "");

  const Intrinsics& intrinsics() const { return intrinsics_; }
  const Eigen::Matrix3d& rotation() const { return R_; }
  const Eigen::Vector3d& translation() const { return t_; }
  const std::string& name() const { return name_; }
  int width() const { return intrinsics_.width; }
  int height() const { return intrinsics_.height; }

  Eigen::Matrix3d K() const { return intrinsics_.matrix(); }
  Eigen::Matrix4d world_to_camera() const;         // [R t; 0 1]
  Eigen::Matrix<double, 3, 4> projection() const;  // K [R | t]
  Eigen::Vector3d source() const;                  // pinhole position in world (= -R^T t)
  Eigen::Vector3d viewing_direction() const;       // +z_cam in world

  Eigen::Vector3d to_camera(const Eigen::Vector3d& p_world) const;
  double depth(const Eigen::Vector3d& p_world) const;  // z_cam, mm
  // Pixel of a world point; only meaningful when depth(p) > 0.
  Eigen::Vector2d project(const Eigen::Vector3d& p_world) const;
  // The ray from the source through continuous pixel coordinate uv.
  Ray unproject(const Eigen::Vector2d& uv) const;
  // The world point at camera depth z_cam on the ray through uv (the MV2D lift (u d, v d, d)).
  Eigen::Vector3d unproject(const Eigen::Vector2d& uv, double depth) const;
  bool in_image(const Eigen::Vector2d& uv) const;

  // Plain float form for kernels (CUDA and CPU twins share it).
  PinholeF to_pod() const;

 private:
  Intrinsics intrinsics_;
  Eigen::Matrix3d R_ = Eigen::Matrix3d::Identity();
  Eigen::Vector3d t_ = Eigen::Vector3d::Zero();
  std::string name_;
};

}  // namespace xraylift::core
