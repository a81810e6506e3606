#pragma once
// Ground-truth 2D boxes (docs/ARCHITECTURE.md "Conventions"): project the 8 corners of a 3D box, take min/max, clip to
// the image; keep the projected centre and its depth (the 3D head learns (u, v, depth)).
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/camera.hpp"

namespace xraylift::core {

struct ProjectedBox {
  Box2D box;                  // clipped to the image
  Box2D unclipped;            // min/max of the projected corners
  Eigen::Vector2d center_uv;  // projection of the 3D centre (may lie outside the image)
  double center_depth = 0;    // z_cam of the 3D centre, mm
  bool visible = false;       // in front of the source and overlapping the image
  double truncation = 0;      // 1 - clipped area / unclipped area
};

ProjectedBox project_box(const Camera& camera, const Box3D& box);
// Bounding box (unclipped) of projected points; all points must be in front of the camera.
Box2D project_points_bbox(const Camera& camera, const std::vector<Eigen::Vector3d>& points);

}  // namespace xraylift::core
