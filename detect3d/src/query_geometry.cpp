#include "xraylift/detect3d/query_geometry.hpp"

#include <algorithm>
#include <numeric>

#include "xraylift/core/error.hpp"
#include "xraylift/core/projection.hpp"

namespace xraylift::detect3d {

core::Intrinsics roi_intrinsics(const core::Intrinsics& k, const core::Box2D& roi, int out_width, int out_height) {
  XL_CHECK(!roi.empty(), "roi_intrinsics: empty RoI [", roi.x0, ", ", roi.y0, ", ", roi.x1, ", ", roi.y1, "]");
  XL_CHECK(out_width > 0 && out_height > 0, "roi_intrinsics: output size ", out_width, " x ", out_height,
           " must be positive");
  const double sx = out_width / roi.width();
  const double sy = out_height / roi.height();
  core::Intrinsics r;
  r.fx = k.fx * sx;
  r.fy = k.fy * sy;
  r.cx = (k.cx - roi.x0) * sx;
  r.cy = (k.cy - roi.y0) * sy;
  r.width = out_width;
  r.height = out_height;
  return r;
}

core::Box2D frustum_box_in_view(const core::Camera& source, const core::Box2D& roi, double near_mm, double far_mm,
                                const core::Camera& target) {
  XL_CHECK(near_mm > 0 && far_mm > near_mm, "frustum_box_in_view: depths ", near_mm, "..", far_mm,
           " mm, expected 0 < near < far");
  std::vector<Eigen::Vector3d> corners;
  for (double d : {near_mm, far_mm}) {
    for (double u : {roi.x0, roi.x1}) {
      for (double v : {roi.y0, roi.y1}) corners.push_back(source.unproject(Eigen::Vector2d(u, v), d));
    }
  }
  return core::project_points_bbox(target, corners);
}

std::vector<int> top_k_by_iou(const core::Box2D& frustum, const std::vector<core::Box2D>& candidates, int k) {
  std::vector<std::pair<double, int>> scored;
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i) {
    const double v = core::iou(frustum, candidates[i]);
    if (v > 0) scored.emplace_back(v, i);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int> out;
  for (int i = 0; i < std::min<int>(k, static_cast<int>(scored.size())); ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace xraylift::detect3d
