#include "xraylift/core/volume.hpp"

#include <Eigen/LU>

namespace xraylift::core {

VolumeGeometry VolumeGeometry::centered(const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing) {
  VolumeGeometry g;
  g.dims = dims;
  g.spacing = spacing;
  g.origin = -0.5 * spacing.cwiseProduct((dims.array() - 1).matrix().cast<double>());
  return g;
}

Eigen::Vector3d VolumeGeometry::index_to_world(const Eigen::Vector3d& ijk) const {
  return origin + direction * spacing.cwiseProduct(ijk);
}

Eigen::Vector3d VolumeGeometry::world_to_index(const Eigen::Vector3d& p) const {
  return (direction.transpose() * (p - origin)).cwiseQuotient(spacing);
}

Eigen::Vector3d VolumeGeometry::center_world() const {
  return index_to_world(0.5 * (dims.array() - 1).matrix().cast<double>());
}

bool VolumeGeometry::axis_aligned() const {
  return (direction - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff() < 1e-9;
}

Box3D VolumeGeometry::world_bounds() const {
  XL_CHECK(axis_aligned(), "volume: world_bounds needs an identity direction (reorient the volume first)");
  const Eigen::Vector3d lo = origin - 0.5 * spacing;
  const Eigen::Vector3d hi = index_to_world((dims.array() - 1).matrix().cast<double>()) + 0.5 * spacing;
  return Box3D::from_min_max(lo, hi);
}

void VolumeGeometry::validate(const std::string& where) const {
  XL_CHECK(dims.minCoeff() > 0, where, ": dims (", dims.transpose(), "), expected every dimension >= 1");
  for (int a = 0; a < 3; ++a) {
    XL_CHECK(std::isfinite(spacing[a]) && spacing[a] > 0, where, ": spacing[", a, "] = ", spacing[a],
             " mm, expected a finite value > 0");
  }
  XL_CHECK(origin.allFinite(), where, ": origin (", origin.transpose(), ") is not finite");
  XL_CHECK(direction.allFinite() && std::abs(std::abs(direction.determinant()) - 1.0) < 1e-6, where,
           ": direction matrix is not a rotation/reflection (det ", direction.determinant(), ")");
}

}  // namespace xraylift::core
