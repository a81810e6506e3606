#pragma once
// The geometry of MV2D queries that needs no tensors (docs/detect3d.md "MV2D geometry"):
//   - RoI-rebased intrinsics in MV2D's convention, where the 7 x 7 RoI grid has its cell centres at integer
//     coordinates 0..6: (3, 3) is the box centre and (-0.5, -0.5) its top-left corner (x0, y0);
//   - the depth span of the scene range seen from a view (frustum depths, key position-encoding depths);
//   - correlation: for each RoI, the RoI of every other view with the highest IoU (> 0) against the 2D (convex)
//     hull of its projected frustum.
#include <Eigen/Core>
#include <utility>
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/camera.hpp"
#include "xraylift/detect3d/ray_gate.hpp"
#include "xraylift/detect3d/scene_range.hpp"

namespace xraylift::detect3d {

// K' (4 x 4, homogeneous) with s = (n / w, n / h): K'[0:2, 2] -= (x0, y0) + 0.5 / s; K'[0:2, :] *= s.
// A camera point p maps to RoI-grid coordinates by K' [p; 1] / z.
Eigen::Matrix4d mv2d_roi_intrinsics(const core::Intrinsics& k, const core::Box2D& roi, int roi_size);
// The image pixel of a RoI-grid coordinate (the inverse of the map above).
Eigen::Vector2d roi_grid_to_pixel(const core::Box2D& roi, int roi_size, const Eigen::Vector2d& grid);

// Camera depths (z_cam, mm) spanned by the 8 corners of the scene range, near clamped to >= 1 mm.
std::pair<double, double> scene_depth_span(const core::Camera& camera, const SceneRange& range);

// Camera depths (mm) of the segment of the ray through pixel uv that lies inside the scene range (slab test), near
// clamped to >= 1 mm; the whole scene_depth_span when the ray misses the range.
std::pair<double, double> ray_depth_span(const core::Camera& camera, const Eigen::Vector2d& uv,
                                         const SceneRange& range);

// 2D hull (bounding box) in `target` of the frustum through `roi` of `source` sampled on a grid x grid pattern of
// the box at `depths` depths between near and far; points behind the target's source are skipped. Empty box when
// none is in front.
core::Box2D frustum_hull_in_view(const core::Camera& source, const core::Box2D& roi, double near_mm, double far_mm,
                                 const core::Camera& target, int grid = 4, int depths = 8);

// The convex hull (counter-clockwise, image coordinates) of the same projected frustum points: in a ring the frustum
// projects to a thin slanted band along the epipolar line, whose bounding box would also cover other nodules at
// other heights. Empty when no point is in front of the target.
std::vector<Eigen::Vector2d> frustum_polygon_in_view(const core::Camera& source, const core::Box2D& roi, double near_mm,
                                                     double far_mm, const core::Camera& target, int grid = 4,
                                                     int depths = 8);
// IoU of an axis-aligned box and a convex polygon (exact: the polygon clipped by the box).
double box_polygon_iou(const core::Box2D& box, const std::vector<Eigen::Vector2d>& polygon);

// rois[v] are view v's boxes. Returns, for each RoI in view-major order (global index g), a vector of size V: its own
// index g at its view, and in every other view the global index of the best-IoU RoI, or -1 when none overlaps.
// frustum_depth_mm: {near, far} for every view, or empty for the depths at which each RoI's centre ray crosses the
// scene range (ray_depth_span).
std::vector<std::vector<int>> correlate_rois(const std::vector<core::Camera>& cameras,
                                             const std::vector<std::vector<core::Box2D>>& rois, const SceneRange& range,
                                             const std::vector<double>& frustum_depth_mm = {});

// The depth prior of MV2D queries from the other views' RoIs (`query_generator.depth_prior: rays`; docs/detect3d.md
// "Depth prior"). A radiograph carries almost no depth cue, so a query's depth is set by where its RoI's centre ray
// meets the centre rays of the other views' RoIs: each RoI of another view whose centre ray meets the query's by the
// shared ray rule (detect3d/ray_gate.hpp, with the query RoI's extent) votes for the depth (z of the query's camera)
// of the closest approach. The window of window_mm with votes from the most distinct views wins (ties: the smaller
// spread); its mean depth is the prior when at least min_views views voted, else the query has none.
struct RayDepthOptions {
  RayGate rays{5.0, 0.25, 10.0};
  double window_mm = 10.0;
  int min_views = 2;
  void validate() const;  // throws ConfigError naming the option
};
// rois[v] are view v's boxes; returns one depth (mm) per RoI in view-major order, NaN where there is no prior.
std::vector<double> ray_consensus_depths(const std::vector<core::Camera>& cameras,
                                         const std::vector<std::vector<core::Box2D>>& rois, const RayDepthOptions& o);

}  // namespace xraylift::detect3d
