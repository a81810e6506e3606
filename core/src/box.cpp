#include "xraylift/core/box.hpp"

#include <algorithm>

#include "xraylift/core/error.hpp"

namespace xraylift::core {

Box3D Box3D::from_min_max(const Eigen::Vector3d& lo, const Eigen::Vector3d& hi) {
  return Box3D{0.5 * (lo + hi), (hi - lo).cwiseMax(0.0)};
}

std::array<Eigen::Vector3d, 8> Box3D::corners() const {
  std::array<Eigen::Vector3d, 8> out;
  const Eigen::Vector3d h = 0.5 * size;
  for (int i = 0; i < 8; ++i) {
    out[i] = center + Eigen::Vector3d((i & 1) ? h.x() : -h.x(), (i & 2) ? h.y() : -h.y(), (i & 4) ? h.z() : -h.z());
  }
  return out;
}

bool Box3D::contains(const Eigen::Vector3d& p) const {
  return (p.array() >= min().array()).all() && (p.array() <= max().array()).all();
}

Box2D Box2D::clipped(int w, int h) const {
  return Box2D{std::clamp(x0, 0.0, double(w)), std::clamp(y0, 0.0, double(h)), std::clamp(x1, 0.0, double(w)),
               std::clamp(y1, 0.0, double(h))};
}

Box2D intersection(const Box2D& a, const Box2D& b) {
  return Box2D{std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1), std::min(a.y1, b.y1)};
}

double iou(const Box2D& a, const Box2D& b) {
  const double inter = intersection(a, b).area();
  const double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

double iou(const Box3D& a, const Box3D& b) {
  const Eigen::Vector3d lo = a.min().cwiseMax(b.min());
  const Eigen::Vector3d hi = a.max().cwiseMin(b.max());
  const double inter = (hi - lo).cwiseMax(0.0).prod();
  const double uni = a.volume() + b.volume() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

double aligned_iou(const Box3D& a, const Box3D& b) {
  const double inter = a.size.cwiseMin(b.size).prod();
  const double uni = a.volume() + b.volume() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

void validate_box(const Box3D& box, const std::string& where) {
  XL_CHECK(box.center.allFinite(), where, ": centre (", box.center.transpose(), ") is not finite");
  for (int i = 0; i < 3; ++i) {
    XL_CHECK(std::isfinite(box.size[i]) && box.size[i] > 0, where, ": size[", i, "] = ", box.size[i],
             ", expected a finite value > 0 mm");
  }
}

}  // namespace xraylift::core
