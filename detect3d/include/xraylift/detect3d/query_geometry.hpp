#pragma once
// Geometry of MV2D object queries (docs/detect3d.md), on core's camera convention:
//   - a 2D detection's RoI is resampled to a fixed grid; the query generator sees intrinsics re-based to it;
//   - its reference point is the lift of a predicted (u, v, depth) through the camera (core::Camera::unproject);
//   - relevant features of other views: project the detection's frustum (its RoI over a depth interval) into
//     each other view and keep the detections there that overlap it most.
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/camera.hpp"

namespace xraylift::detect3d {

// Intrinsics of the view cropped to `roi` and resampled to out_width x out_height pixels (continuous pixel
// convention: roi.x0 maps to 0 and roi.x1 to out_width).
core::Intrinsics roi_intrinsics(const core::Intrinsics& k, const core::Box2D& roi, int out_width, int out_height);

// 2D box (unclipped) in `target` of the frustum through `roi` of `source` between depths near..far (mm, z of
// `source`): the projections of its 8 corners. Throws when a corner falls behind the target's source.
core::Box2D frustum_box_in_view(const core::Camera& source, const core::Box2D& roi, double near_mm, double far_mm,
                                const core::Camera& target);

// Indices of the `k` candidate boxes with the highest IoU with `frustum` (IoU > 0 only), best first.
std::vector<int> top_k_by_iou(const core::Box2D& frustum, const std::vector<core::Box2D>& candidates, int k);

}  // namespace xraylift::detect3d
