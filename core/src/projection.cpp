#include "xraylift/core/projection.hpp"

#include <limits>

#include "xraylift/core/error.hpp"

namespace xraylift::core {

Box2D project_points_bbox(const Camera& camera, const std::vector<Eigen::Vector3d>& points) {
  XL_CHECK(!points.empty(), "project_points_bbox: no points");
  Box2D b{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (const auto& p : points) {
    XL_CHECK(camera.depth(p) > 0, "project_points_bbox: point (", p.transpose(), ") is behind camera '", camera.name(),
             "'");
    const Eigen::Vector2d uv = camera.project(p);
    b.x0 = std::min(b.x0, uv.x());
    b.y0 = std::min(b.y0, uv.y());
    b.x1 = std::max(b.x1, uv.x());
    b.y1 = std::max(b.y1, uv.y());
  }
  return b;
}

ProjectedBox project_box(const Camera& camera, const Box3D& box) {
  ProjectedBox out;
  out.center_depth = camera.depth(box.center);
  const auto corners = box.corners();
  for (const auto& c : corners) {
    // A box that reaches the source plane has no finite image; it is never a usable ground truth.
    if (camera.depth(c) <= 1e-6) {
      out.visible = false;
      out.center_uv = Eigen::Vector2d::Constant(std::numeric_limits<double>::quiet_NaN());
      return out;
    }
  }
  out.center_uv = camera.project(box.center);
  out.unclipped = project_points_bbox(camera, std::vector<Eigen::Vector3d>(corners.begin(), corners.end()));
  out.box = out.unclipped.clipped(camera.width(), camera.height());
  out.visible = !out.box.empty();
  const double full = out.unclipped.area();
  out.truncation = full > 0 ? 1.0 - out.box.area() / full : 1.0;
  return out;
}

}  // namespace xraylift::core
