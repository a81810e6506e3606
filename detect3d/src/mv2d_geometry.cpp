#include "xraylift/detect3d/mv2d_geometry.hpp"

#include <algorithm>
#include <limits>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d {

Eigen::Matrix4d mv2d_roi_intrinsics(const core::Intrinsics& k, const core::Box2D& roi, int roi_size) {
  XL_CHECK(!roi.empty(), "mv2d_roi_intrinsics: empty RoI [", roi.x0, ", ", roi.y0, ", ", roi.x1, ", ", roi.y1, "]");
  XL_CHECK(roi_size > 0, "mv2d_roi_intrinsics: roi_size ", roi_size, " must be positive");
  const double sx = roi_size / roi.width(), sy = roi_size / roi.height();
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m.topLeftCorner<3, 3>() = k.matrix();
  m(0, 2) -= roi.x0 + 0.5 / sx;
  m(1, 2) -= roi.y0 + 0.5 / sy;
  m.row(0) *= sx;
  m.row(1) *= sy;
  return m;
}

Eigen::Vector2d roi_grid_to_pixel(const core::Box2D& roi, int roi_size, const Eigen::Vector2d& g) {
  const double sx = roi_size / roi.width(), sy = roi_size / roi.height();
  return {(g.x() + 0.5) / sx + roi.x0, (g.y() + 0.5) / sy + roi.y0};
}

std::pair<double, double> scene_depth_span(const core::Camera& camera, const SceneRange& range) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int c = 0; c < 8; ++c) {
    const Eigen::Vector3d p((c & 1) ? range.max_mm.x() : range.min_mm.x(), (c & 2) ? range.max_mm.y() : range.min_mm.y(),
                            (c & 4) ? range.max_mm.z() : range.min_mm.z());
    const double d = camera.depth(p);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  lo = std::max(lo, 1.0);
  XL_CHECK(hi > lo, "scene range lies behind the source of view '", camera.name(), "'");
  return {lo, hi};
}

core::Box2D frustum_hull_in_view(const core::Camera& source, const core::Box2D& roi, double near_mm, double far_mm,
                                 const core::Camera& target, int grid, int depths) {
  XL_CHECK(near_mm > 0 && far_mm > near_mm, "frustum_hull_in_view: depths ", near_mm, "..", far_mm,
           " mm, expected 0 < near < far");
  XL_CHECK(grid >= 2 && depths >= 2, "frustum_hull_in_view: grid and depths must be >= 2");
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  bool any = false;
  for (int k = 0; k < depths; ++k) {
    const double d = near_mm + (far_mm - near_mm) * k / (depths - 1);
    for (int i = 0; i < grid; ++i) {
      for (int j = 0; j < grid; ++j) {
        const Eigen::Vector2d uv(roi.x0 + roi.width() * i / (grid - 1), roi.y0 + roi.height() * j / (grid - 1));
        const Eigen::Vector3d p = source.unproject(uv, d);
        if (target.depth(p) < 1.0) continue;
        const Eigen::Vector2d q = target.project(p);
        x0 = std::min(x0, q.x()), y0 = std::min(y0, q.y()), x1 = std::max(x1, q.x()), y1 = std::max(y1, q.y());
        any = true;
      }
    }
  }
  return any ? core::Box2D{x0, y0, x1, y1} : core::Box2D{};
}

std::vector<std::vector<int>> correlate_rois(const std::vector<core::Camera>& cameras,
                                             const std::vector<std::vector<core::Box2D>>& rois,
                                             const SceneRange& range, const std::vector<double>& frustum_depth_mm) {
  XL_CHECK(cameras.size() == rois.size(), "correlate_rois: ", cameras.size(), " cameras but ", rois.size(),
           " RoI lists");
  const int V = static_cast<int>(cameras.size());
  std::vector<int> offset(V + 1, 0);
  for (int v = 0; v < V; ++v) offset[v + 1] = offset[v] + static_cast<int>(rois[v].size());
  std::vector<std::vector<int>> out;
  out.reserve(offset[V]);
  for (int v = 0; v < V; ++v) {
    const auto span = frustum_depth_mm.size() == 2 ? std::make_pair(frustum_depth_mm[0], frustum_depth_mm[1])
                                                    : scene_depth_span(cameras[v], range);
    for (std::size_t r = 0; r < rois[v].size(); ++r) {
      std::vector<int> row(V, -1);
      row[v] = offset[v] + static_cast<int>(r);
      for (int w = 0; w < V; ++w) {
        if (w == v || rois[w].empty()) continue;
        const core::Box2D hull = frustum_hull_in_view(cameras[v], rois[v][r], span.first, span.second, cameras[w]);
        if (hull.empty()) continue;
        double best = 0.0;
        for (std::size_t c = 0; c < rois[w].size(); ++c) {
          const double iou = core::iou(hull, rois[w][c]);
          if (iou > best) best = iou, row[w] = offset[w] + static_cast<int>(c);
        }
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace xraylift::detect3d
