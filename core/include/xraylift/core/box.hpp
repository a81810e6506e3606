#pragma once
// Box layouts, defined once:
//   Box3D: axis-aligned in the world frame, centre (x, y, z) and full size (dx, dy, dz), millimetres. No yaw.
//   Box2D: continuous pixel coordinates [x0, x1) x [y0, y1) (pixel (c, r) covers [c, c+1) x [r, r+1)).
#include <Eigen/Core>
#include <array>
#include <string>

namespace xraylift::core {

struct Box3D {
  Eigen::Vector3d center = Eigen::Vector3d::Zero();
  Eigen::Vector3d size = Eigen::Vector3d::Zero();

  static Box3D from_min_max(const Eigen::Vector3d& lo, const Eigen::Vector3d& hi);
  Eigen::Vector3d min() const { return center - 0.5 * size; }
  Eigen::Vector3d max() const { return center + 0.5 * size; }
  std::array<Eigen::Vector3d, 8> corners() const;
  double volume() const { return size.prod(); }
  bool contains(const Eigen::Vector3d& p) const;
  // Mean of the three extents, mm (a simple nodule "diameter" for a box).
  double mean_extent() const { return size.mean(); }
};

struct Box2D {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;

  double width() const { return x1 > x0 ? x1 - x0 : 0.0; }
  double height() const { return y1 > y0 ? y1 - y0 : 0.0; }
  double area() const { return width() * height(); }
  bool empty() const { return !(x1 > x0 && y1 > y0); }
  Eigen::Vector2d center() const { return {0.5 * (x0 + x1), 0.5 * (y0 + y1)}; }
  Box2D clipped(int image_width, int image_height) const;
};

double iou(const Box3D& a, const Box3D& b);
double iou(const Box2D& a, const Box2D& b);
// IoU of the two boxes moved to a common centre (nuScenes ASE = 1 - this).
double aligned_iou(const Box3D& a, const Box3D& b);
Box2D intersection(const Box2D& a, const Box2D& b);

// Throws InputError naming `where` when centre/size are non-finite or a size is <= 0.
void validate_box(const Box3D& box, const std::string& where);

}  // namespace xraylift::core
