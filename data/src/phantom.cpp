// Synthetic chest phantom: analytic anatomy (body, lungs, heart, mediastinum, trachea, spine, ribs, sternum,
// scapulae, clavicles), grown vessel and bronchial trees, nodules of several kinds and sites, CT noise.
// Every random choice comes from the seed; per-voxel noise is a hash of (seed, voxel), so results do not depend
// on the thread count.
#include "xraylift/data/phantom.hpp"

#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <random>

#include "chest_anatomy.hpp"
#include "large_volume.hpp"
#include "nodule_shape.hpp"
#include "phantom_noise.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::data {

void PhantomSpec::validate() const {
  for (int a = 0; a < 3; ++a) {
    if (dims[a] < 16 || dims[a] > 2048)
      throw core::ConfigError(core::cat("phantom: dims[", a, "] = ", dims[a], ", expected 16..2048"));
    if (!(spacing_mm[a] > 0.1 && spacing_mm[a] < 10))
      throw core::ConfigError(core::cat("phantom: spacing_mm[", a, "] = ", spacing_mm[a], ", expected 0.1..10 mm"));
  }
  const Eigen::Vector3d fov = spacing_mm.cwiseProduct(dims.cast<double>());
  if (fov.x() < 150 || fov.y() < 120 || fov.z() < 100)
    throw core::ConfigError(core::cat("phantom: field of view ", fov.transpose(),
                                      " mm is too small for a chest (need >= 150 x 120 x 100 mm)"));
  if (nodules < 0 || nodules > 200)
    throw core::ConfigError(core::cat("phantom: nodules = ", nodules, ", expected 0..200"));
  if (!(nodule_min_diameter_mm >= 1 && nodule_min_diameter_mm <= nodule_max_diameter_mm &&
        nodule_max_diameter_mm <= 40))
    throw core::ConfigError(core::cat("phantom: nodule diameters [", nodule_min_diameter_mm, ", ",
                                      nodule_max_diameter_mm, "] mm, expected 1 <= min <= max <= 40"));
  if (!(noise_hu >= 0 && noise_hu <= 200))
    throw core::ConfigError(core::cat("phantom: noise_hu = ", noise_hu, ", expected 0..200"));
  for (const auto& [name, p] : {std::pair<const char*, double>{"contrast_probability", contrast_probability},
                                {"dense_vein_probability", dense_vein_probability}})
    if (!(p >= 0 && p <= 1)) throw core::ConfigError(core::cat("phantom: ", name, " = ", p, ", expected 0..1"));
  if (!(vessel_terminal_radius_mm == 0 || (vessel_terminal_radius_mm >= 0.1 && vessel_terminal_radius_mm <= 1.5)))
    throw core::ConfigError(core::cat("phantom: vessel_terminal_radius_mm = ", vessel_terminal_radius_mm,
                                      ", expected 0.1..1.5 mm (or 0: the chest version's)"));
  if (chest_version != 1 && chest_version != 2)
    throw core::ConfigError(core::cat("phantom: chest_version = ", chest_version, ", expected 1 or 2"));
}

double PhantomSpec::terminal_radius_mm() const {
  if (vessel_terminal_radius_mm > 0) return vessel_terminal_radius_mm;
  return chest_version == 1 ? 0.38 : 0.30;
}

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Tissue {
  std::uint8_t label;
  float hu;
};

// Anatomy in mm, scaled to the field of view (a typical adult chest when the field allows it).
struct Anatomy {
  double a, b;         // body semi-axes along x (left-right) and y (anterior-posterior)
  double zlo, zhi, L;  // z range of voxel centres
  double apex, base, dome, carina;
  double lung_cx, lung_cy, lung_ax, lung_by, medial;
  Eigen::Vector3d heart_c, heart_r;
  double spine_y, vb_r, canal_y;

  explicit Anatomy(const core::VolumeGeometry& g) {
    const Eigen::Vector3d lo = g.index_to_world(Eigen::Vector3d::Zero());
    const Eigen::Vector3d hi = g.index_to_world((g.dims.array() - 1).matrix().cast<double>());
    const Eigen::Vector3d fov = hi - lo;
    a = std::min(0.45 * fov.x(), 165.0);
    b = std::min(0.68 * a, 0.45 * fov.y());
    zlo = lo.z();
    zhi = hi.z();
    L = zhi - zlo;
    apex = zhi - 0.04 * L;
    base = zlo + 0.03 * L;
    dome = 0.30 * L;
    carina = zlo + 0.62 * L;
    lung_cx = 0.47 * a;
    lung_cy = 0.03 * b;
    lung_ax = 0.37 * a;
    lung_by = 0.80 * b;
    medial = 0.10 * a;
    heart_c = Eigen::Vector3d(0.12 * a, -0.22 * b, zlo + 0.30 * L);
    heart_r = Eigen::Vector3d(0.31 * a, 0.38 * b, 0.20 * L);
    spine_y = 0.60 * b;
    vb_r = 0.12 * b;
    canal_y = spine_y + vb_r + 8.0;
  }

  // 0 outside the lungs, -1 right lung (x < 0), +1 left lung.
  int lung_side(const Eigen::Vector3d& p) const {
    if (p.z() >= apex) return 0;
    const int s = p.x() < 0 ? -1 : 1;
    if (s * p.x() < medial) return 0;
    const double f = std::sqrt(std::clamp((apex - p.z()) / (0.22 * L), 0.0, 1.0));
    if (f < 0.08) return 0;
    const double dx = (p.x() - s * lung_cx) / (lung_ax * f);
    const double dy = (p.y() - lung_cy - 0.1 * b * (1 - f)) / (lung_by * (0.55 + 0.45 * f));
    const double q = dx * dx + dy * dy;
    if (q > 1) return 0;
    // Diaphragm domes, the right one higher (liver); deeper posterior recesses.
    const double floor = base + dome * (1 - q) + (s < 0 ? 0.04 * L : 0.0) - 0.08 * L * std::max(0.0, dy);
    if (p.z() < floor) return 0;
    return s;
  }

  bool in_heart(const Eigen::Vector3d& p) const { return (p - heart_c).cwiseQuotient(heart_r).squaredNorm() <= 1; }
};

inline double len2(double dx, double dy) { return std::sqrt(dx * dx + dy * dy); }

double seg_distance(const Eigen::Vector3d& p, const Eigen::Vector3d& a, const Eigen::Vector3d& b) {
  const Eigen::Vector3d ab = b - a;
  const double t = std::clamp(ab.dot(p - a) / std::max(ab.squaredNorm(), 1e-12), 0.0, 1.0);
  return (a + t * ab - p).norm();
}

struct Segment {
  Eigen::Vector3d a, b;
  double r;
  int generation;
};

class Builder {
 public:
  Builder(const PhantomSpec& spec, Phantom& ph)
      : spec_(spec), ph_(ph), g_(ph.ct.hu.geometry()), an_(g_), rng_(spec.seed * 0x9E3779B97F4A7C15ull + 17) {
    const Eigen::Vector3d lo = g_.index_to_world(Eigen::Vector3d::Zero()) - Eigen::Vector3d::Constant(5);
    const Eigen::Vector3d hi =
        g_.index_to_world((g_.dims.array() - 1).matrix().cast<double>()) + Eigen::Vector3d::Constant(5);
    coarse_ = std::make_unique<detail::LatticeNoise>(spec.seed ^ 0x1111, lo, hi, 9.0);
    fine_ = std::make_unique<detail::LatticeNoise>(spec.seed ^ 0x2222, lo, hi, 2.5);
  }

  void anatomy() {
    core::parallel_for(g_.dims.z(), [&](int k) {
      for (int j = 0; j < g_.dims.y(); ++j)
        for (int i = 0; i < g_.dims.x(); ++i) {
          const Eigen::Vector3d p = g_.index_to_world(Eigen::Vector3d(i, j, k));
          const Tissue t = tissue_at(p);
          ph_.labels.at(i, j, k) = t.label;
          ph_.ct.hu.at(i, j, k) = static_cast<std::int16_t>(std::lround(t.hu));
        }
    });
  }

  void trees() {
    const double min_r = std::max(0.35, 0.45 * g_.spacing.head<2>().minCoeff());
    for (int s = -1; s <= 1; s += 2) {
      const Eigen::Vector3d hilum(s * 0.22 * an_.a, 0.08 * an_.b, an_.carina - 20);
      const Eigen::Vector3d dirs[] = {{0.25 * s, 0.05, 1.0},
                                      {1.0 * s, -0.25, -0.05},
                                      {0.3 * s, 0.45, -1.0},
                                      {0.45 * s, -0.7, -0.6},
                                      {0.6 * s, 0.6, 0.1}};
      for (const auto& d : dirs) grow(vessels_, hilum, d.normalized(), 0.07 * an_.L + 14, 5.0, 0, 12, min_r);
      // Main bronchus from the carina to the hilum, then the bronchial tree (fewer, wider generations).
      const Eigen::Vector3d carina(0, 0.12 * an_.b, an_.carina);
      airways_.push_back({carina, hilum + Eigen::Vector3d(0, 0.06 * an_.b, 0), 6.0, 0});
      const Eigen::Vector3d adirs[] = {{0.2 * s, 0.15, 1.0}, {0.9 * s, 0.05, -0.2}, {0.35 * s, 0.35, -1.0}};
      for (const auto& d : adirs)
        grow(airways_, hilum + Eigen::Vector3d(0, 0.06 * an_.b, 0), d.normalized(), 0.06 * an_.L + 12, 4.2, 0, 6,
             std::max(min_r, 1.0));
    }
    for (const auto& s : vessels_) paint_vessel(s);
    vessels_painted_ = true;  // from now on "in the lung" includes the vessels in it
    for (const auto& s : airways_) paint_airway(s);
  }

  // The `chest` model's tissues and vessel trees (chest_anatomy.cpp, chest_vessels.cpp) in place of anatomy() and
  // trees(); nodules() and noise() are shared.
  void chest() {
    lay_ = detail::chest_layout(g_, spec_.seed, spec_.chest_version);
    detail::add_contrast(lay_, spec_.seed, {spec_.contrast_probability, spec_.dense_vein_probability});
    const detail::ChestLayout& lay = lay_;
    detail::paint_chest_tissues(lay, *coarse_, *fine_, ph_);
    if (!spec_.vessels) return;
    detail::ChestVesselOptions opt;
    opt.terminal_radius_mm = spec_.terminal_radius_mm();
    ph_.vessel_tree = detail::grow_chest_vessels(lay, ph_, spec_.seed, opt);
    chest_airways_ = detail::paint_chest_vessels(ph_.vessel_tree, lay.blood_enhancement_hu, ph_);
    for (const auto& n : ph_.vessel_tree)
      if (n.parent >= 0) vessels_.push_back({ph_.vessel_tree[n.parent].p, n.p, n.radius_mm, 0});
    vessels_painted_ = true;
  }

  void nodules() {
    std::uniform_real_distribution<double> unit(0, 1);
    const double dmin = spec_.nodule_min_diameter_mm, dmax = spec_.nodule_max_diameter_mm;
    std::vector<Eigen::Vector3d> placed;
    for (int n = 0; n < spec_.nodules && n < 250; ++n) {
      PhantomNodule pn;
      const double u = unit(rng_);
      pn.kind = u < 0.6 ? NoduleKind::kSolid : (u < 0.8 ? NoduleKind::kPartSolid : NoduleKind::kGroundGlass);
      const double v = unit(rng_);
      pn.shape = v < 0.45 ? NoduleShape::kSphere : (v < 0.75 ? NoduleShape::kLobulated : NoduleShape::kSpiculated);
      const int site_pick = n % 3;  // a mix of sites in every phantom
      pn.site = site_pick == 0 ? NoduleSite::kParenchyma
                               : (site_pick == 1 ? NoduleSite::kJuxtaPleural : NoduleSite::kJuxtaVascular);
      const double d = dmin * std::pow(dmax / dmin, unit(rng_));  // log-uniform: small nodules are common
      pn.radius_mm = 0.5 * d;
      bool ok = false;
      for (int attempt = 0; attempt < 200 && !ok; ++attempt) {
        ok = place(pn, placed);
        if (!ok && attempt == 100 && pn.site != NoduleSite::kParenchyma) pn.site = NoduleSite::kParenchyma;
      }
      if (!ok) continue;
      paint_nodule(pn, static_cast<int>(ph_.nodules.size()) + 1);
      if (pn.voxels == 0) continue;
      placed.push_back(pn.center_mm);
      ph_.nodules.push_back(pn);
    }
    // Exact truth boxes from the painted voxels (a later nodule may cover an earlier one's voxels).
    std::vector<Eigen::Vector3d> lo(ph_.nodules.size(), Eigen::Vector3d::Constant(1e18)),
        hi(ph_.nodules.size(), Eigen::Vector3d::Constant(-1e18));
    std::vector<int> count(ph_.nodules.size(), 0);
    for (int k = 0; k < g_.dims.z(); ++k)
      for (int j = 0; j < g_.dims.y(); ++j)
        for (int i = 0; i < g_.dims.x(); ++i) {
          const int id = ph_.nodule_ids.at(i, j, k);
          if (!id) continue;
          const Eigen::Vector3d p = g_.index_to_world(Eigen::Vector3d(i, j, k));
          lo[id - 1] = lo[id - 1].cwiseMin(p);
          hi[id - 1] = hi[id - 1].cwiseMax(p);
          ++count[id - 1];
        }
    for (std::size_t n = 0; n < ph_.nodules.size(); ++n) {
      auto& pn = ph_.nodules[n];
      pn.voxels = count[n];
      if (!count[n]) continue;
      pn.truth.box = core::Box3D::from_min_max(lo[n] - 0.5 * g_.spacing, hi[n] + 0.5 * g_.spacing);
      pn.truth.id = core::cat("n", n + 1);
      pn.truth.diameter_mm = 2 * pn.radius_mm;
      pn.truth.readers = 0;
      pn.truth.label = "nodule";
      pn.truth.texture = to_string(pn.kind);
      ph_.ct.nodules.push_back(pn.truth);
    }
  }

  void noise() {
    if (spec_.noise_hu <= 0) return;
    const float sigma = static_cast<float>(spec_.noise_hu);
    const std::uint64_t seed = detail::mix64(spec_.seed ^ 0x5151);
    const int nx = g_.dims.x(), ny = g_.dims.y();
    core::parallel_for(g_.dims.z(), [&](int k) {
      std::int16_t* row = ph_.ct.hu.data() + std::int64_t(nx) * ny * k;
      for (std::int64_t n = 0; n < std::int64_t(nx) * ny; ++n) {
        const std::uint64_t h = detail::mix64(seed + std::uint64_t(std::int64_t(nx) * ny * k + n));
        const float v = row[n] + sigma * detail::gaussian_from_hash(h);
        row[n] = static_cast<std::int16_t>(std::lround(std::clamp(v, -1024.0f, 3071.0f)));
      }
    });
  }

 private:
  Tissue tissue_at(const Eigen::Vector3d& p) const {
    const double x = p.x(), y = p.y(), z = p.z();
    const double u = x / an_.a, v = y / (y > 0 ? an_.b * 1.02 : an_.b);
    const double rho = std::sqrt(u * u + v * v);
    if (rho > 1) return {kLabelOutside, -1000.f};
    // Texture is evaluated only where a tissue uses it (it is the costliest part of this function).
    struct Lazy {
      const detail::LatticeNoise& n;
      const Eigen::Vector3d& p;
      mutable float v = 0;
      mutable bool done = false;
      operator float() const {
        if (!done) {
          v = n(p);
          done = true;
        }
        return v;
      }
    };
    const Lazy c{*coarse_, p}, f{*fine_, p};
    const double r_mm = std::sqrt(x * x + y * y) / std::max(rho, 1e-6);  // mm per unit of rho along this ray
    const double theta = std::atan2(v, std::abs(u));                     // +90 deg posterior, -90 anterior
    const double t = (kPi / 2 - theta) / kPi;                            // 0 posterior ... 1 anterior

    // Spine: vertebral bodies with discs, the canal and the posterior arch.
    const double dvb = len2(x, y - an_.spine_y);
    const bool disc = std::fmod(z - an_.zlo + 1000.0 * 25.0, 25.0) < 5.0;
    if (dvb < an_.vb_r) {
      if (disc) return {kLabelSoftTissue, 80.f + 10 * f};
      return {kLabelBone, dvb > an_.vb_r - 2.0 ? 900.f + 80 * f : 230.f + 60 * c + 30 * f};
    }
    const double dcanal = len2(x, y - an_.canal_y);
    if (dcanal < 7.0) return {kLabelSoftTissue, 20.f + 5 * f};
    if (!disc && ((dcanal < 11.5 && y > an_.canal_y - 3) || (std::abs(x) < 4.0 && y > an_.canal_y && rho < 0.9)))
      return {kLabelBone, 650.f + 80 * f};

    // Ribs: bands around the chest wall, sloping down toward the front; costal cartilage near the sternum.
    const double rib_rho = 0.885;
    const double d_radial = (rho - rib_rho) * r_mm;
    if (std::abs(d_radial) < 4.0 && t > 0.02 && t < 0.95) {
      const double pitch = 24.0, top = an_.zhi - 18.0, slope = 95.0;  // ribs drop steeply toward the front
      const double n_real = (top - slope * t - z) / pitch;
      const int n = static_cast<int>(std::lround(n_real));
      const double zc = top - slope * t - n * pitch;
      const double e = (d_radial / 3.6) * (d_radial / 3.6) + ((z - zc) / 4.5) * ((z - zc) / 4.5);
      if (n >= 0 && n < 12 && e <= 1) {
        if (t > 0.82) return {kLabelSoftTissue, 110.f + 15 * f};
        return {kLabelBone, e > 0.45 ? 1050.f + 120 * f : 320.f + 60 * f};
      }
    }
    // Sternum (front, midline), scapulae (back, outside the ribs), clavicles (top, front).
    if (std::abs(x) < 15.0 && y < -an_.b + 19.0 && y > -an_.b + 6.0 && z > an_.zlo + 0.3 * an_.L &&
        z < an_.zhi - 0.05 * an_.L) {
      const bool inner = std::abs(x) < 12.5 && y < -an_.b + 16.5 && y > -an_.b + 8.5;
      return {kLabelBone, inner ? 260.f + 50 * f : 850.f + 80 * f};
    }
    if (rho > 0.925 && rho < 0.962 && theta > 0.45 && theta < 1.2 && z > an_.zhi - 0.45 * an_.L &&
        z < an_.zhi - 0.02 * an_.L)
      return {kLabelBone, 720.f + 100 * f};
    if (theta < -0.3 && theta > -1.35 && rho > 0.8 && rho < 0.95 &&
        std::abs(z - (an_.zhi - 0.05 * an_.L + 12.0 * (t - 0.75))) < 6.0)
      return {kLabelBone, 760.f + 90 * f};

    // Trachea above the carina (lumen and wall).
    const double dtr = len2(x, y - 0.12 * an_.b);
    if (z > an_.carina && dtr < 10.0) return {kLabelAirway, dtr < 8.0 ? -1000.f : 40.f + 10 * f};

    // Great vessels and the heart.
    if (len2(x - 0.10 * an_.a, y - 0.42 * an_.b) < 0.055 * an_.a + 4) return {kLabelMediastinum, 42.f + 6 * f};
    if (an_.in_heart(p)) return {kLabelMediastinum, 40.f + 12 * c + 6 * f};
    const bool above_heart = z > an_.heart_c.z() + 0.6 * an_.heart_r.z();
    if (above_heart && z < an_.zhi - 0.08 * an_.L) {
      if (len2(x - 0.03 * an_.a, y + 0.22 * an_.b) < 0.07 * an_.a + 3) return {kLabelMediastinum, 45.f + 6 * f};
      if (len2(x + 0.07 * an_.a, y + 0.18 * an_.b) < 0.045 * an_.a + 2) return {kLabelMediastinum, 38.f + 6 * f};
    }

    // Lungs: parenchyma with texture and a gravity gradient (posterior denser).
    const int side = an_.lung_side(p);
    if (side != 0) {
      const float hu = -860.f + 35.f * c + 18.f * f + static_cast<float>(45.0 * std::max(0.0, y / an_.b));
      return {side < 0 ? kLabelRightLung : kLabelLeftLung, hu};
    }
    // Mediastinal fat between the lungs; chest wall (muscle, fat, skin); abdomen below the diaphragm.
    const double mx = x / (an_.medial + 0.06 * an_.a), my = (y - 0.05 * an_.b) / (0.8 * an_.b);
    if (mx * mx + my * my <= 1 && y > -an_.b + 19) return {kLabelMediastinum, -70.f + 40 * c};
    if (rho > 0.985) return {kLabelSoftTissue, 30.f + 8 * f};
    if (rho > 0.93) return {kLabelSoftTissue, -100.f + 15 * c};
    if (z < an_.zlo + 0.35 * an_.L && rho < 0.86) return {kLabelSoftTissue, 55.f + 10 * c};  // liver / abdomen
    return {kLabelSoftTissue, 45.f + 10 * c};
  }

  bool lung_at(const Eigen::Vector3d& p) const {
    const Eigen::Vector3d idx = g_.world_to_index(p);
    const int i = int(std::lround(idx.x())), j = int(std::lround(idx.y())), k = int(std::lround(idx.z()));
    if (!ph_.labels.in_bounds(i, j, k)) return false;
    const auto l = ph_.labels.at(i, j, k);
    return l == kLabelRightLung || l == kLabelLeftLung || (vessels_painted_ && l == kLabelVessel);
  }

  Eigen::Vector3d random_perpendicular(const Eigen::Vector3d& d) {
    std::normal_distribution<double> n01;
    Eigen::Vector3d r(n01(rng_), n01(rng_), n01(rng_));
    r -= d * d.dot(r);
    return r.norm() > 1e-9 ? r.normalized() : d.unitOrthogonal();
  }

  void grow(std::vector<Segment>& out, const Eigen::Vector3d& a, const Eigen::Vector3d& dir, double len, double r,
            int gen, int max_gen, double min_r) {
    // A branch that would leave the lung tries other directions (a few), then shorter, then stops.
    Eigen::Vector3d d = dir, b = a + dir * len;
    bool ok = gen == 0 || lung_at(b);
    for (int attempt = 0; attempt < 6 && !ok; ++attempt) {
      const double scale = attempt < 3 ? 1.0 : 0.6;
      d = (Eigen::AngleAxisd(0.5 + 0.15 * attempt, random_perpendicular(dir)) * dir).normalized();
      b = a + d * (len * scale);
      ok = lung_at(b) && lung_at(0.5 * (a + b));
    }
    if (!ok) return;
    out.push_back({a, b, r, gen});
    const double child_r = r * 0.79;  // Murray's law for two equal children
    if (gen >= max_gen || child_r < min_r) return;
    std::uniform_real_distribution<double> ang(0.3, 0.7), lf(0.72, 0.88);
    const Eigen::Vector3d axis = random_perpendicular(d);
    const double a1 = ang(rng_), a2 = ang(rng_), l1 = lf(rng_), l2 = lf(rng_);
    const Eigen::Vector3d d1 = Eigen::AngleAxisd(a1, axis) * d, d2 = Eigen::AngleAxisd(-a2, axis) * d;
    grow(out, b, d1.normalized(), len * l1, child_r, gen + 1, max_gen, min_r);
    grow(out, b, d2.normalized(), len * l2, child_r, gen + 1, max_gen, min_r);
  }

  template <typename F>
  void for_voxels_near(const Eigen::Vector3d& lo_mm, const Eigen::Vector3d& hi_mm, F&& f) {
    const Eigen::Vector3d i0 = g_.world_to_index(lo_mm), i1 = g_.world_to_index(hi_mm);
    const int k0 = std::max(0, int(std::floor(i0.z()))), k1 = std::min(g_.dims.z() - 1, int(std::ceil(i1.z())));
    const int j0 = std::max(0, int(std::floor(i0.y()))), j1 = std::min(g_.dims.y() - 1, int(std::ceil(i1.y())));
    const int ii0 = std::max(0, int(std::floor(i0.x()))), ii1 = std::min(g_.dims.x() - 1, int(std::ceil(i1.x())));
    for (int k = k0; k <= k1; ++k)
      for (int j = j0; j <= j1; ++j)
        for (int i = ii0; i <= ii1; ++i) f(i, j, k, g_.index_to_world(Eigen::Vector3d(i, j, k)));
  }

  void paint_vessel(const Segment& s) {
    const double pv = 0.5 * g_.spacing.minCoeff();
    const Eigen::Vector3d pad = Eigen::Vector3d::Constant(s.r + pv + 1e-6);
    for_voxels_near(s.a.cwiseMin(s.b) - pad, s.a.cwiseMax(s.b) + pad,
                    [&](int i, int j, int k, const Eigen::Vector3d& p) {
                      auto& l = ph_.labels.at(i, j, k);
                      if (l != kLabelRightLung && l != kLabelLeftLung && l != kLabelVessel) return;
                      const double d = seg_distance(p, s.a, s.b);
                      const double w = std::clamp((s.r + pv - d) / (2 * pv), 0.0, 1.0);  // partial volume at the wall
                      if (w <= 0) return;
                      auto& hu = ph_.ct.hu.at(i, j, k);
                      const double target = 42.0;
                      hu = static_cast<std::int16_t>(std::lround(std::max<double>(hu, hu + w * (target - hu))));
                      if (d <= s.r) l = kLabelVessel;
                    });
  }

  void paint_airway(const Segment& s) {
    const double wall = std::max(0.6, 0.2 * s.r);
    const Eigen::Vector3d pad = Eigen::Vector3d::Constant(s.r + wall + 1e-6);
    for_voxels_near(s.a.cwiseMin(s.b) - pad, s.a.cwiseMax(s.b) + pad,
                    [&](int i, int j, int k, const Eigen::Vector3d& p) {
                      auto& l = ph_.labels.at(i, j, k);
                      if (l != kLabelRightLung && l != kLabelLeftLung && l != kLabelVessel && l != kLabelMediastinum &&
                          l != kLabelAirway)
                        return;
                      const double d = seg_distance(p, s.a, s.b);
                      if (d > s.r + wall) return;
                      auto& hu = ph_.ct.hu.at(i, j, k);
                      if (d <= s.r) {
                        hu = -990;
                      } else if (l != kLabelAirway || hu > -900) {
                        hu = 35;
                      }
                      l = kLabelAirway;
                    });
  }

  detail::NoduleShape shape_of(const PhantomNodule& pn) {
    return detail::make_nodule_shape(pn.center_mm, pn.radius_mm, pn.shape, shape_rng_);
  }

  bool place(PhantomNodule& pn, const std::vector<Eigen::Vector3d>& placed) {
    std::uniform_real_distribution<double> unit(0, 1);
    const double r = pn.radius_mm;
    auto random_lung_point = [&]() -> std::optional<Eigen::Vector3d> {
      for (int t = 0; t < 200; ++t) {
        const Eigen::Vector3d p(g_.index_to_world(Eigen::Vector3d(
            unit(rng_) * (g_.dims.x() - 1), unit(rng_) * (g_.dims.y() - 1), unit(rng_) * (g_.dims.z() - 1))));
        if (lung_at(p)) return p;
      }
      return std::nullopt;
    };
    Eigen::Vector3d c;
    if (pn.site == NoduleSite::kJuxtaVascular) {
      std::vector<const Segment*> candidates;
      for (const auto& s : vessels_)
        if (s.r >= 1.0 && s.r <= 3.5 && lung_at(0.5 * (s.a + s.b))) candidates.push_back(&s);
      if (candidates.empty()) return false;
      const Segment& s = *candidates[std::size_t(unit(rng_) * candidates.size()) % candidates.size()];
      const Eigen::Vector3d axis = (s.b - s.a).normalized();
      c = s.a + unit(rng_) * (s.b - s.a) + random_perpendicular(axis) * (s.r + 0.6 * r);
    } else if (pn.site == NoduleSite::kJuxtaPleural) {
      const auto start = random_lung_point();
      if (!start) return false;
      std::normal_distribution<double> n01;
      Eigen::Vector3d dir(n01(rng_), n01(rng_), 0.3 * n01(rng_));
      dir.normalize();
      Eigen::Vector3d q = *start;
      const double step = 0.5 * g_.spacing.minCoeff();
      int guard = 0;
      while (lung_at(q + dir * step) && ++guard < 4000) q += dir * step;
      c = q - dir * (0.7 * r);  // the nodule touches the pleura; voxels beyond it stay chest wall
    } else {
      const auto p = random_lung_point();
      if (!p) return false;
      c = *p;
    }
    if (!lung_at(c)) return false;
    for (const auto& other : placed)
      if ((other - c).norm() < r + 25.0) return false;  // keep nodules apart (distinct truth boxes)
    if (pn.site == NoduleSite::kParenchyma) {
      // Fully inside the lung: the centre and points on a sphere of 1.3 r.
      for (int a = 0; a < 3; ++a)
        for (int sgn = -1; sgn <= 1; sgn += 2) {
          Eigen::Vector3d q = c;
          q[a] += sgn * 1.3 * r;
          if (!lung_at(q)) return false;
        }
    }
    pn.center_mm = c;
    return true;
  }

  void paint_nodule(PhantomNodule& pn, int id) {
    const detail::NoduleShape s = shape_of(pn);
    const double reach = s.extent() + g_.spacing.maxCoeff();
    const Eigen::Vector3d pad = Eigen::Vector3d::Constant(reach);
    int count = 0;
    for_voxels_near(pn.center_mm - pad, pn.center_mm + pad, [&](int i, int j, int k, const Eigen::Vector3d& p) {
      auto& l = ph_.labels.at(i, j, k);
      if (l != kLabelRightLung && l != kLabelLeftLung && l != kLabelVessel && l != kLabelNodule) return;
      const double f = s.value(p);
      if (f > 1) return;
      auto& hu = ph_.ct.hu.at(i, j, k);
      const float tex = (*fine_)(p * 1.7);
      double value;
      switch (pn.kind) {
        case NoduleKind::kSolid:
          value = 35 + 20 * tex;
          break;
        case NoduleKind::kGroundGlass:
          value = std::max<double>(hu, -480 + 110 * tex);
          break;  // vessels stay visible
        default:
          value = f < 0.5 ? 30 + 15 * tex : std::max<double>(hu, -450 + 100 * tex);
          break;
      }
      hu = static_cast<std::int16_t>(std::lround(value));
      l = kLabelNodule;
      ph_.nodule_ids.at(i, j, k) = static_cast<std::uint8_t>(id);
      ++count;
    });
    pn.voxels = count;
  }

  const PhantomSpec& spec_;
  Phantom& ph_;
  const core::VolumeGeometry g_;
  Anatomy an_;
  std::mt19937_64 rng_;
  std::mt19937_64 shape_rng_{0};
  std::unique_ptr<detail::LatticeNoise> coarse_, fine_;
  std::vector<Segment> vessels_, airways_;
  bool vessels_painted_ = false;
  int chest_airways_ = 0;
  detail::ChestLayout lay_;

 public:
  void seed_shapes() { shape_rng_.seed(spec_.seed * 31 + 7); }
  std::size_t vessel_segments() const { return vessels_.size(); }
  std::size_t airway_segments() const { return airways_.size() + std::size_t(chest_airways_); }
  const detail::ChestLayout& chest_layout() const { return lay_; }
};

}  // namespace

Phantom generate_phantom(const PhantomSpec& spec) {
  spec.validate();
  Phantom ph;
  const auto g = case_geometry(spec.dims, spec.spacing_mm);
  ph.ct.id = spec.id.empty() ? core::cat("phantom-", spec.seed) : spec.id;
  ph.ct.hu = detail::allocate_volume<std::int16_t>(g, -1000);
  ph.labels = detail::allocate_volume<std::uint8_t>(g, kLabelOutside);
  ph.nodule_ids = detail::allocate_volume<std::uint8_t>(g, 0);
  Builder b(spec, ph);
  b.seed_shapes();
  if (spec.anatomy == PhantomAnatomy::kChest) {
    b.chest();
  } else {
    b.anatomy();
    if (spec.vessels) b.trees();
  }
  b.nodules();
  b.noise();
  nlohmann::json nodules = nlohmann::json::array();
  for (const auto& n : ph.nodules)
    nodules.push_back({{"id", n.truth.id},
                       {"kind", to_string(n.kind)},
                       {"shape", to_string(n.shape)},
                       {"site", to_string(n.site)},
                       {"center_mm", {n.center_mm.x(), n.center_mm.y(), n.center_mm.z()}},
                       {"radius_mm", n.radius_mm},
                       {"voxels", n.voxels}});
  ph.ct.meta = {{"source", "phantom"},
                {"seed", spec.seed},
                {"dims", {spec.dims.x(), spec.dims.y(), spec.dims.z()}},
                {"spacing_mm", {spec.spacing_mm.x(), spec.spacing_mm.y(), spec.spacing_mm.z()}},
                {"noise_hu", spec.noise_hu},
                {"vessel_segments", b.vessel_segments()},
                {"airway_segments", b.airway_segments()},
                {"nodules", nodules}};
  if (spec.anatomy != PhantomAnatomy::kSimple) {
    ph.ct.meta["anatomy"] = to_string(spec.anatomy);
    ph.ct.meta["chest_version"] = spec.chest_version;
    ph.ct.meta["vessel_terminal_radius_mm"] = spec.terminal_radius_mm();
    const auto& lay = b.chest_layout();
    nlohmann::json contrast = {{"blood_enhancement_hu", lay.blood_enhancement_hu}};
    if (lay.injection_side >= 0) {
      contrast["dense_vein_hu"] = lay.dense_vein_hu;
      contrast["injection_side"] = lay.injection_side == 0 ? "right" : "left";
    }
    ph.ct.meta["contrast"] = contrast;
  }
  return ph;
}

}  // namespace xraylift::data
