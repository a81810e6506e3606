#include "xraylift/core/camera.hpp"

#include <Eigen/Geometry>
#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::core {

Eigen::Matrix3d Intrinsics::matrix() const {
  Eigen::Matrix3d K;
  K << fx, 0, cx, 0, fy, cy, 0, 0, 1;
  return K;
}

Intrinsics Intrinsics::detector(double sdd_mm, double pixel_size_mm, int width, int height) {
  XL_CHECK(std::isfinite(sdd_mm) && sdd_mm > 0, "detector: sdd_mm = ", sdd_mm, ", expected a finite value > 0");
  XL_CHECK(std::isfinite(pixel_size_mm) && pixel_size_mm > 0, "detector: pixel_size_mm = ", pixel_size_mm,
           ", expected a finite value > 0");
  XL_CHECK(width > 0 && height > 0, "detector: size ", width, " x ", height, ", expected positive pixel counts");
  Intrinsics k;
  k.fx = k.fy = sdd_mm / pixel_size_mm;
  k.cx = width / 2.0;
  k.cy = height / 2.0;
  k.width = width;
  k.height = height;
  return k;
}

Camera::Camera(const Intrinsics& intr, const Eigen::Matrix3d& R, const Eigen::Vector3d& t, std::string name)
    : intrinsics_(intr), R_(R), t_(t), name_(std::move(name)) {
  const std::string who = name_.empty() ? std::string("camera") : cat("camera '", name_, "'");
  XL_CHECK(std::isfinite(intr.fx) && std::isfinite(intr.fy) && intr.fx > 0 && intr.fy > 0, who, ": focal lengths (",
           intr.fx, ", ", intr.fy, ") px, expected finite values > 0");
  XL_CHECK(std::isfinite(intr.cx) && std::isfinite(intr.cy), who, ": principal point (", intr.cx, ", ", intr.cy,
           ") is not finite");
  XL_CHECK(intr.width > 0 && intr.height > 0, who, ": image size ", intr.width, " x ", intr.height,
           ", expected positive");
  XL_CHECK(R.allFinite() && t.allFinite(), who, ": rotation or translation is not finite");
  const double orth = (R * R.transpose() - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff();
  XL_CHECK(orth < 1e-6, who, ": rotation is not orthonormal (max |R R^T - I| = ", orth, ")");
  XL_CHECK(R.determinant() > 0, who, ": rotation has determinant ", R.determinant(),
           ", expected +1 (right-handed camera frame)");
}

Camera Camera::look_at(const Intrinsics& intr, const Eigen::Vector3d& source, const Eigen::Vector3d& target,
                       const Eigen::Vector3d& world_up, std::string name) {
  XL_CHECK(source.allFinite() && target.allFinite() && world_up.allFinite(),
           "look_at: non-finite source, target or up");
  const Eigen::Vector3d forward = target - source;
  XL_CHECK(forward.norm() > 1e-9, "look_at: source and target coincide at (", source.transpose(), ")");
  const Eigen::Vector3d z = forward.normalized();
  // Image down (+y_cam) is the component of -up orthogonal to the viewing direction.
  Eigen::Vector3d y = -world_up + world_up.dot(z) * z;
  XL_CHECK(y.norm() > 1e-9, "look_at: up vector (", world_up.transpose(), ") is parallel to the viewing direction");
  y.normalize();
  const Eigen::Vector3d x = y.cross(z);  // right-handed: x = y x z
  Eigen::Matrix3d R;
  R.row(0) = x.transpose();
  R.row(1) = y.transpose();
  R.row(2) = z.transpose();
  return Camera(intr, R, -R * source, std::move(name));
}

Eigen::Matrix4d Camera::world_to_camera() const {
  Eigen::Matrix4d T = Eigen::Matrix4d::Identity();
  T.topLeftCorner<3, 3>() = R_;
  T.topRightCorner<3, 1>() = t_;
  return T;
}

Eigen::Matrix<double, 3, 4> Camera::projection() const {
  Eigen::Matrix<double, 3, 4> Rt;
  Rt.leftCols<3>() = R_;
  Rt.col(3) = t_;
  return K() * Rt;
}

Eigen::Vector3d Camera::source() const { return -R_.transpose() * t_; }
Eigen::Vector3d Camera::viewing_direction() const { return R_.row(2).transpose(); }
Eigen::Vector3d Camera::to_camera(const Eigen::Vector3d& p) const { return R_ * p + t_; }
double Camera::depth(const Eigen::Vector3d& p) const { return to_camera(p).z(); }

Eigen::Vector2d Camera::project(const Eigen::Vector3d& p) const {
  const Eigen::Vector3d c = to_camera(p);
  return {intrinsics_.fx * c.x() / c.z() + intrinsics_.cx, intrinsics_.fy * c.y() / c.z() + intrinsics_.cy};
}

std::optional<RayClosestPoints> closest_points(const Ray& a, const Ray& b, double min_sin) {
  const double c = a.direction.dot(b.direction);
  const double sin2 = 1.0 - c * c;
  if (sin2 < min_sin * min_sin || sin2 <= 1e-12) return std::nullopt;
  const Eigen::Vector3d w0 = a.origin - b.origin;
  const double da = a.direction.dot(w0), db = b.direction.dot(w0);
  RayClosestPoints r;
  r.ta = (c * db - da) / sin2;
  r.tb = (db - c * da) / sin2;
  if (r.ta <= 0 || r.tb <= 0) return std::nullopt;
  r.pa = a.origin + r.ta * a.direction;
  r.pb = b.origin + r.tb * b.direction;
  return r;
}

Ray Camera::unproject(const Eigen::Vector2d& uv) const {
  const Eigen::Vector3d d_cam((uv.x() - intrinsics_.cx) / intrinsics_.fx, (uv.y() - intrinsics_.cy) / intrinsics_.fy,
                              1.0);
  return Ray{source(), (R_.transpose() * d_cam).normalized()};
}

Eigen::Vector3d Camera::unproject(const Eigen::Vector2d& uv, double depth) const {
  const Eigen::Vector3d p_cam((uv.x() - intrinsics_.cx) / intrinsics_.fx * depth,
                              (uv.y() - intrinsics_.cy) / intrinsics_.fy * depth, depth);
  return R_.transpose() * (p_cam - t_);
}

bool Camera::in_image(const Eigen::Vector2d& uv) const {
  return uv.x() >= 0 && uv.y() >= 0 && uv.x() < intrinsics_.width && uv.y() < intrinsics_.height;
}

PinholeF Camera::to_pod() const {
  PinholeF p{};
  p.fx = static_cast<float>(intrinsics_.fx);
  p.fy = static_cast<float>(intrinsics_.fy);
  p.cx = static_cast<float>(intrinsics_.cx);
  p.cy = static_cast<float>(intrinsics_.cy);
  p.width = intrinsics_.width;
  p.height = intrinsics_.height;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) p.R[r * 3 + c] = static_cast<float>(R_(r, c));
    p.t[r] = static_cast<float>(t_(r));
  }
  const Eigen::Vector3d s = source();
  for (int i = 0; i < 3; ++i) p.source[i] = static_cast<float>(s(i));
  return p;
}

}  // namespace xraylift::core
