// Synthetic chest phantom (first version: body, lungs, spherical nodules; extended below).
#include "xraylift/data/phantom.hpp"

#include <cmath>
#include <random>

#include "xraylift/core/error.hpp"

namespace xraylift::data {

void PhantomSpec::validate() const {
  for (int a = 0; a < 3; ++a) {
    if (dims[a] < 16 || dims[a] > 2048)
      throw core::ConfigError(core::cat("phantom: dims[", a, "] = ", dims[a], ", expected 16..2048"));
    if (!(spacing_mm[a] > 0.1 && spacing_mm[a] < 10))
      throw core::ConfigError(core::cat("phantom: spacing_mm[", a, "] = ", spacing_mm[a], ", expected 0.1..10 mm"));
  }
  if (nodules < 0 || nodules > 200) throw core::ConfigError(core::cat("phantom: nodules = ", nodules, ", expected 0..200"));
  if (!(nodule_min_diameter_mm >= 1 && nodule_min_diameter_mm <= nodule_max_diameter_mm && nodule_max_diameter_mm <= 40))
    throw core::ConfigError(core::cat("phantom: nodule diameters [", nodule_min_diameter_mm, ", ", nodule_max_diameter_mm,
                                      "] mm, expected 1 <= min <= max <= 40"));
  if (!(noise_hu >= 0 && noise_hu <= 200)) throw core::ConfigError(core::cat("phantom: noise_hu = ", noise_hu, ", expected 0..200"));
}

Phantom generate_phantom(const PhantomSpec& spec) {
  spec.validate();
  Phantom ph;
  const auto g = case_geometry(spec.dims, spec.spacing_mm);
  ph.ct.id = spec.id.empty() ? core::cat("phantom-", spec.seed) : spec.id;
  ph.ct.hu = core::VolumeI16(g, -1000);
  ph.labels = core::VolumeU8(g, kLabelOutside);
  ph.nodule_ids = core::VolumeU8(g, 0);
  const Eigen::Vector3d ext = g.extent_mm();
  const double a = 0.45 * ext.x(), b = 0.32 * ext.y();
  std::mt19937_64 rng(spec.seed);
  std::normal_distribution<double> noise(0.0, spec.noise_hu);
  for (int k = 0; k < g.dims.z(); ++k)
    for (int j = 0; j < g.dims.y(); ++j)
      for (int i = 0; i < g.dims.x(); ++i) {
        const Eigen::Vector3d p = g.index_to_world(Eigen::Vector3d(i, j, k));
        const double u = p.x() / a, v = p.y() / b;
        if (u * u + v * v > 1) continue;
        std::uint8_t label = kLabelSoftTissue;
        double hu = 40;
        for (int side = -1; side <= 1; side += 2) {
          const double lu = (p.x() - side * 0.45 * a) / (0.35 * a), lv = p.y() / (0.75 * b), lw = p.z() / (0.45 * ext.z());
          if (lu * lu + lv * lv + lw * lw < 1) { label = side < 0 ? kLabelRightLung : kLabelLeftLung; hu = -850; }
        }
        ph.labels.at(i, j, k) = label;
        ph.ct.hu.at(i, j, k) = static_cast<std::int16_t>(std::lround(hu));
      }
  std::uniform_real_distribution<double> unit(0, 1);
  for (int n = 0; n < spec.nodules && n < 250; ++n) {
    const int side = (n % 2) ? 1 : -1;
    const double r = 0.5 * (spec.nodule_min_diameter_mm + unit(rng) * (spec.nodule_max_diameter_mm - spec.nodule_min_diameter_mm));
    const Eigen::Vector3d c(side * 0.45 * a + (unit(rng) - 0.5) * 0.3 * a, (unit(rng) - 0.5) * 0.6 * b, (unit(rng) - 0.5) * 0.4 * ext.z());
    Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e9), hi = Eigen::Vector3d::Constant(-1e9);
    int count = 0;
    const Eigen::Vector3d i0 = g.world_to_index(c - Eigen::Vector3d::Constant(r)), i1 = g.world_to_index(c + Eigen::Vector3d::Constant(r));
    for (int k = std::max(0, int(std::floor(i0.z()))); k <= std::min(g.dims.z() - 1, int(std::ceil(i1.z()))); ++k)
      for (int j = std::max(0, int(std::floor(i0.y()))); j <= std::min(g.dims.y() - 1, int(std::ceil(i1.y()))); ++j)
        for (int i = std::max(0, int(std::floor(i0.x()))); i <= std::min(g.dims.x() - 1, int(std::ceil(i1.x()))); ++i) {
          const Eigen::Vector3d p = g.index_to_world(Eigen::Vector3d(i, j, k));
          if ((p - c).norm() > r || ph.nodule_ids.at(i, j, k) != 0) continue;
          ph.labels.at(i, j, k) = kLabelNodule;
          ph.nodule_ids.at(i, j, k) = static_cast<std::uint8_t>(n + 1);
          ph.ct.hu.at(i, j, k) = 40;
          lo = lo.cwiseMin(p);
          hi = hi.cwiseMax(p);
          ++count;
        }
    if (count == 0) continue;
    PhantomNodule pn;
    pn.center_mm = c;
    pn.radius_mm = r;
    pn.voxels = count;
    pn.truth.box = core::Box3D::from_min_max(lo - 0.5 * g.spacing, hi + 0.5 * g.spacing);
    pn.truth.id = core::cat("n", n + 1);
    pn.truth.diameter_mm = 2 * r;
    ph.nodules.push_back(pn);
    ph.ct.nodules.push_back(pn.truth);
  }
  for (auto& v : ph.ct.hu.values()) v = static_cast<std::int16_t>(std::lround(std::clamp(v + noise(rng), -1024.0, 3071.0)));
  ph.ct.meta = {{"source", "phantom"}, {"seed", spec.seed}};
  return ph;
}

}  // namespace xraylift::data
