#include "xraylift/detect3d/ray_gate.hpp"

#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d {

double RayGate::min_sin() const { return std::sin(min_ray_angle_deg * 3.14159265358979323846 / 180.0); }

void RayGate::read(const core::Config& c) {
  max_ray_distance_mm = c.get("max_ray_distance_mm", max_ray_distance_mm);
  ray_distance_fraction = c.get("ray_distance_fraction", ray_distance_fraction);
  min_ray_angle_deg = c.get("min_ray_angle_deg", min_ray_angle_deg);
}

void RayGate::validate(const std::string& where) const {
  auto fail = [&](const std::string& what) { throw core::ConfigError(core::cat(where, " ", what)); };
  if (!(std::isfinite(max_ray_distance_mm) && max_ray_distance_mm > 0))
    fail(core::cat("max_ray_distance_mm = ", max_ray_distance_mm, ", expected a finite value > 0 (mm)"));
  if (!(std::isfinite(ray_distance_fraction) && ray_distance_fraction >= 0 && ray_distance_fraction <= 1))
    fail(core::cat("ray_distance_fraction = ", ray_distance_fraction, ", expected 0 .. 1"));
  if (!(min_ray_angle_deg >= 0 && min_ray_angle_deg < 90))
    fail(core::cat("min_ray_angle_deg = ", min_ray_angle_deg, ", expected 0 .. 90 (exclusive)"));
}

double back_projected_extent_mm(const core::Box2D& roi, const core::Intrinsics& k, double depth_mm) {
  return std::max(roi.width() * depth_mm / k.fx, roi.height() * depth_mm / k.fy);
}

}  // namespace xraylift::detect3d
