#pragma once
// The one rule for where RoI rays of different views meet, shared by triangulate (seeds and association) and MV2D's
// depth prior (docs/detect3d.md): two rays meet when their closest points (core::closest_points) lie within
//   max_ray_distance_mm + ray_distance_fraction x extent
// where extent is the RoI's larger side back-projected to the depth of the meeting point (mm; the sum of both RoIs'
// for a pair of detections), at an angle of at least min_ray_angle_deg from parallel or anti-parallel. The size term
// covers the perspective offset between a box's 2D centre and the projection of its 3D centre. Torch-free.
#include <string>

#include "xraylift/core/box.hpp"
#include "xraylift/core/camera.hpp"
#include "xraylift/core/config.hpp"

namespace xraylift::detect3d {

struct RayGate {
  double max_ray_distance_mm = 5.0;
  double ray_distance_fraction = 0.15;
  double min_ray_angle_deg = 10.0;

  double tolerance_mm(double extent_mm) const { return max_ray_distance_mm + ray_distance_fraction * extent_mm; }
  // The sine below which two rays count as parallel (core::closest_points' min_sin).
  double min_sin() const;
  // Reads the three keys (named as above) from a config section, keeping the values as defaults.
  void read(const core::Config& section);
  // Throws ConfigError naming `where` and the option.
  void validate(const std::string& where) const;
};

// The larger side of `roi` back-projected through intrinsics `k` to `depth_mm` (mm).
double back_projected_extent_mm(const core::Box2D& roi, const core::Intrinsics& k, double depth_mm);

}  // namespace xraylift::detect3d
