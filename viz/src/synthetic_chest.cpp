#include "xraylift/viz/synthetic_chest.hpp"

#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::viz {

double SyntheticChest::lung_ellipsoid_ml() const { return 4.0 / 3.0 * M_PI * lung_semi_axes.prod() / 1000.0; }

SyntheticChest make_synthetic_chest(const Eigen::Vector3d& spacing) {
  XL_CHECK(spacing.allFinite() && spacing.minCoeff() >= 0.3 && spacing.maxCoeff() <= 10, "synthetic chest spacing (",
           spacing.transpose(), ") mm: expected 0.3 .. 10");
  const Eigen::Vector3d extent(320, 240, 300);
  Eigen::Vector3i dims;
  for (int a = 0; a < 3; ++a) dims[a] = int(std::lround(extent[a] / spacing[a]));
  SyntheticChest c;
  c.hu = core::VolumeI16(core::VolumeGeometry::centered(dims, spacing), -1000);
  c.right_centre = {-65, 5, -10};
  c.left_centre = {65, 5, -10};
  c.lung_semi_axes = {45, 60, 100};
  const Eigen::Vector3d carina(0, 0, 70), top(0, 0, 150);
  auto in_tube = [](const Eigen::Vector3d& p, const Eigen::Vector3d& a, const Eigen::Vector3d& b, double r) {
    const Eigen::Vector3d ab = b - a;
    const double t = std::clamp((p - a).dot(ab) / ab.squaredNorm(), 0.0, 1.0);
    return (p - (a + t * ab)).norm() <= r;
  };
  for (int k = 0; k < dims.z(); ++k)
    for (int j = 0; j < dims.y(); ++j)
      for (int i = 0; i < dims.x(); ++i) {
        const Eigen::Vector3d p = c.hu.index_to_world(Eigen::Vector3d(i, j, k));
        double v = -1000;
        if (std::pow(p.x() / 150, 2) + std::pow(p.y() / 105, 2) <= 1) v = 40;        // body
        if (std::pow(p.x() / 20, 2) + std::pow((p.y() - 80) / 20, 2) <= 1) v = 900;  // spine
        for (const auto& centre : {c.right_centre, c.left_centre}) {
          const Eigen::Vector3d q = (p - centre).cwiseQuotient(c.lung_semi_axes);
          if (q.squaredNorm() <= 1) {
            // Vessels: a lattice of thin rods (filled again by hole closing), texture from position.
            const bool vessel = std::abs(std::fmod(std::abs(p.x()) + 3, 25.0) - 12.5) < 1.5 &&
                                std::abs(std::fmod(std::abs(p.y()) + 7, 25.0) - 12.5) < 1.5 && q.squaredNorm() < 0.7;
            v = vessel ? 40 : -850 + 30 * std::sin(0.3 * p.x() + 0.2 * p.y() + 0.1 * p.z());
          }
        }
        if (in_tube(p, top, carina, 9) || in_tube(p, carina, c.right_centre + Eigen::Vector3d(20, 0, 40), 6) ||
            in_tube(p, carina, c.left_centre + Eigen::Vector3d(-20, 0, 40), 6))
          v = -1000;
        c.hu.at(i, j, k) = static_cast<std::int16_t>(std::lround(v));
      }
  return c;
}

}  // namespace xraylift::viz
