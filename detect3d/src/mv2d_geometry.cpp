#include "xraylift/detect3d/mv2d_geometry.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

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
    const Eigen::Vector3d p((c & 1) ? range.max_mm.x() : range.min_mm.x(),
                            (c & 2) ? range.max_mm.y() : range.min_mm.y(),
                            (c & 4) ? range.max_mm.z() : range.min_mm.z());
    const double d = camera.depth(p);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  lo = std::max(lo, 1.0);
  XL_CHECK(hi > lo, "scene range lies behind the source of view '", camera.name(), "'");
  return {lo, hi};
}

std::pair<double, double> ray_depth_span(const core::Camera& camera, const Eigen::Vector2d& uv,
                                         const SceneRange& range) {
  const core::Ray ray = camera.unproject(uv);
  double t0 = 0.0, t1 = std::numeric_limits<double>::infinity();
  for (int a = 0; a < 3; ++a) {
    const double o = ray.origin[a], d = ray.direction[a];
    if (std::abs(d) < 1e-12) {
      if (o < range.min_mm[a] || o > range.max_mm[a]) return scene_depth_span(camera, range);
      continue;
    }
    double ta = (range.min_mm[a] - o) / d, tb = (range.max_mm[a] - o) / d;
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta);
    t1 = std::min(t1, tb);
  }
  if (!(t1 > t0)) return scene_depth_span(camera, range);
  const double cos_axis = ray.direction.dot(camera.viewing_direction());  // depth = t * cos
  const double near = std::max(1.0, t0 * cos_axis), far = t1 * cos_axis;
  if (!(far > near)) return scene_depth_span(camera, range);
  return {near, far};
}

namespace {

std::vector<Eigen::Vector2d> frustum_points(const core::Camera& source, const core::Box2D& roi, double near_mm,
                                            double far_mm, const core::Camera& target, int grid, int depths) {
  XL_CHECK(near_mm > 0 && far_mm > near_mm, "frustum: depths ", near_mm, "..", far_mm, " mm, expected 0 < near < far");
  XL_CHECK(grid >= 2 && depths >= 2, "frustum: grid and depths must be >= 2");
  std::vector<Eigen::Vector2d> out;
  for (int k = 0; k < depths; ++k) {
    const double d = near_mm + (far_mm - near_mm) * k / (depths - 1);
    for (int i = 0; i < grid; ++i)
      for (int j = 0; j < grid; ++j) {
        const Eigen::Vector2d uv(roi.x0 + roi.width() * i / (grid - 1), roi.y0 + roi.height() * j / (grid - 1));
        const Eigen::Vector3d p = source.unproject(uv, d);
        if (target.depth(p) >= 1.0) out.push_back(target.project(p));
      }
  }
  return out;
}

}  // namespace

core::Box2D frustum_hull_in_view(const core::Camera& source, const core::Box2D& roi, double near_mm, double far_mm,
                                 const core::Camera& target, int grid, int depths) {
  const auto pts = frustum_points(source, roi, near_mm, far_mm, target, grid, depths);
  if (pts.empty()) return core::Box2D{};
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  for (const auto& q : pts)
    x0 = std::min(x0, q.x()), y0 = std::min(y0, q.y()), x1 = std::max(x1, q.x()), y1 = std::max(y1, q.y());
  return core::Box2D{x0, y0, x1, y1};
}

namespace {

double cross(const Eigen::Vector2d& o, const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
  return (a.x() - o.x()) * (b.y() - o.y()) - (a.y() - o.y()) * (b.x() - o.x());
}

double polygon_area(const std::vector<Eigen::Vector2d>& p) {
  double a = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const auto& u = p[i];
    const auto& v = p[(i + 1) % p.size()];
    a += u.x() * v.y() - v.x() * u.y();
  }
  return 0.5 * std::abs(a);
}

// Sutherland-Hodgman: keeps the part of `poly` on the side of the line where inside(p) holds.
template <typename Inside, typename Cut>
std::vector<Eigen::Vector2d> clip(const std::vector<Eigen::Vector2d>& poly, Inside inside, Cut cut) {
  std::vector<Eigen::Vector2d> out;
  for (std::size_t i = 0; i < poly.size(); ++i) {
    const auto& a = poly[i];
    const auto& b = poly[(i + 1) % poly.size()];
    const bool ia = inside(a), ib = inside(b);
    if (ia) out.push_back(a);
    if (ia != ib) out.push_back(cut(a, b));
  }
  return out;
}

}  // namespace

std::vector<Eigen::Vector2d> frustum_polygon_in_view(const core::Camera& source, const core::Box2D& roi, double near_mm,
                                                     double far_mm, const core::Camera& target, int grid, int depths) {
  auto pts = frustum_points(source, roi, near_mm, far_mm, target, grid, depths);
  std::sort(pts.begin(), pts.end(),
            [](const auto& a, const auto& b) { return a.x() < b.x() || (a.x() == b.x() && a.y() < b.y()); });
  if (pts.size() < 3) return pts;
  std::vector<Eigen::Vector2d> hull(2 * pts.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {  // Andrew's monotone chain
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  for (std::size_t i = pts.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && cross(hull[k - 2], hull[k - 1], pts[i - 1]) <= 0) --k;
    hull[k++] = pts[i - 1];
  }
  hull.resize(k - 1);
  return hull;
}

double box_polygon_iou(const core::Box2D& box, const std::vector<Eigen::Vector2d>& polygon) {
  if (polygon.size() < 3 || box.empty()) return 0.0;
  auto lerp = [](const Eigen::Vector2d& a, const Eigen::Vector2d& b, double t) {
    return Eigen::Vector2d(a + t * (b - a));
  };
  auto p = polygon;
  p = clip(
      p, [&](const auto& q) { return q.x() >= box.x0; },
      [&](const auto& a, const auto& b) { return lerp(a, b, (box.x0 - a.x()) / (b.x() - a.x())); });
  p = clip(
      p, [&](const auto& q) { return q.x() <= box.x1; },
      [&](const auto& a, const auto& b) { return lerp(a, b, (box.x1 - a.x()) / (b.x() - a.x())); });
  p = clip(
      p, [&](const auto& q) { return q.y() >= box.y0; },
      [&](const auto& a, const auto& b) { return lerp(a, b, (box.y0 - a.y()) / (b.y() - a.y())); });
  p = clip(
      p, [&](const auto& q) { return q.y() <= box.y1; },
      [&](const auto& a, const auto& b) { return lerp(a, b, (box.y1 - a.y()) / (b.y() - a.y())); });
  const double inter = p.size() >= 3 ? polygon_area(p) : 0.0;
  const double uni = box.area() + polygon_area(polygon) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<std::vector<int>> correlate_rois(const std::vector<core::Camera>& cameras,
                                             const std::vector<std::vector<core::Box2D>>& rois, const SceneRange& range,
                                             const std::vector<double>& frustum_depth_mm) {
  XL_CHECK(cameras.size() == rois.size(), "correlate_rois: ", cameras.size(), " cameras but ", rois.size(),
           " RoI lists");
  const int V = static_cast<int>(cameras.size());
  std::vector<int> offset(V + 1, 0);
  for (int v = 0; v < V; ++v) offset[v + 1] = offset[v] + static_cast<int>(rois[v].size());
  std::vector<std::vector<int>> out;
  out.reserve(offset[V]);
  for (int v = 0; v < V; ++v) {
    for (std::size_t r = 0; r < rois[v].size(); ++r) {
      const auto span = frustum_depth_mm.size() == 2 ? std::make_pair(frustum_depth_mm[0], frustum_depth_mm[1])
                                                     : ray_depth_span(cameras[v], rois[v][r].center(), range);
      std::vector<int> row(V, -1);
      row[v] = offset[v] + static_cast<int>(r);
      for (int w = 0; w < V; ++w) {
        if (w == v || rois[w].empty()) continue;
        const auto hull = frustum_polygon_in_view(cameras[v], rois[v][r], span.first, span.second, cameras[w]);
        if (hull.size() < 3) continue;
        double best = 0.0;
        for (std::size_t c = 0; c < rois[w].size(); ++c) {
          const double iou = box_polygon_iou(rois[w][c], hull);
          if (iou > best) best = iou, row[w] = offset[w] + static_cast<int>(c);
        }
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

void RayDepthOptions::validate() const {
  auto fail = [](const std::string& what) { throw core::ConfigError("mv2d query_generator: " + what); };
  rays.validate("mv2d query_generator:");
  if (!(std::isfinite(window_mm) && window_mm > 0)) fail(core::cat("ray_window_mm = ", window_mm, ", expected > 0"));
  if (min_views < 1) fail(core::cat("ray_min_views = ", min_views, ", expected >= 1"));
}

std::vector<double> ray_consensus_depths(const std::vector<core::Camera>& cameras,
                                         const std::vector<std::vector<core::Box2D>>& rois, const RayDepthOptions& o) {
  XL_CHECK(cameras.size() == rois.size(), "ray_consensus_depths: ", cameras.size(), " cameras but ", rois.size(),
           " RoI lists");
  o.validate();
  const int V = static_cast<int>(cameras.size());
  std::vector<std::vector<core::Ray>> rays(V);
  for (int v = 0; v < V; ++v)
    for (const auto& b : rois[v]) rays[v].push_back(cameras[v].unproject(b.center()));
  const double min_sin = o.rays.min_sin();
  std::vector<double> out;
  std::vector<std::pair<double, int>> votes;  // (depth, view)
  std::vector<int> in_window(V, 0);
  for (int v = 0; v < V; ++v) {
    const auto& k = cameras[v].intrinsics();
    for (std::size_t r = 0; r < rois[v].size(); ++r) {
      const core::Ray& q = rays[v][r];
      const double extent_per_mm = back_projected_extent_mm(rois[v][r], k, 1.0);
      votes.clear();
      for (int w = 0; w < V; ++w) {
        if (w == v) continue;
        for (const core::Ray& other : rays[w]) {
          const auto c = core::closest_points(q, other, min_sin);
          if (!c) continue;
          const double depth = cameras[v].depth(c->pa);
          if (depth > 0 && (c->pa - c->pb).norm() <= o.rays.tolerance_mm(extent_per_mm * depth))
            votes.push_back({depth, w});
        }
      }
      std::sort(votes.begin(), votes.end());
      // Every window [votes[i], votes[i] + window_mm], slid over the sorted votes with per-view counts.
      int best_views = 0, views = 0;
      double best_spread = 0, best_depth = std::numeric_limits<double>::quiet_NaN(), sum = 0;
      std::fill(in_window.begin(), in_window.end(), 0);
      for (std::size_t i = 0, j = 0; i < votes.size(); ++i) {
        for (; j < votes.size() && votes[j].first - votes[i].first <= o.window_mm; ++j) {
          views += in_window[votes[j].second]++ == 0;
          sum += votes[j].first;
        }
        const double spread = votes[j - 1].first - votes[i].first;
        if (views > best_views || (views == best_views && spread < best_spread)) {
          best_views = views;
          best_spread = spread;
          best_depth = sum / double(j - i);
        }
        views -= --in_window[votes[i].second] == 0;
        sum -= votes[i].first;
      }
      out.push_back(best_views >= o.min_views ? best_depth : std::numeric_limits<double>::quiet_NaN());
    }
  }
  return out;
}

}  // namespace xraylift::detect3d
