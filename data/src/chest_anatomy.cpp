// Tissues of the `chest` phantom model (docs/data.md "Phantoms"): body wall in layers (skin, subcutaneous fat,
// muscle), ribs with costal cartilage, spine, sternum, scapulae, clavicles; lungs that fill the thoracic cavity
// between the chest wall and the mediastinum, with apical caps, diaphragm domes (right higher) whose floor falls
// into the costophrenic recesses, and the heart's impression on the left lung; heart, aorta, SVC, pulmonary arteries
// and veins, trachea, main bronchi and oesophagus; liver, stomach (with its gas bubble) and spleen below the domes.
// HU per tissue: docs/data.md "Phantoms" (the sources are cited there).
#include <algorithm>
#include <cmath>
#include <optional>

#include "chest_anatomy.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::data::detail {

namespace {
constexpr double kPi = 3.14159265358979323846;

// Unenhanced CT numbers (docs/data.md "Phantoms": the table and its sources).
constexpr float kAir = -1000, kFat = -100, kMuscle = 45, kBlood = 40, kLiver = 60, kSpleen = 45, kStomach = 25,
                kCartilage = 110, kCortical = 1000, kCancellous = 250, kSkin = 35, kMarrowDisc = 80, kCsf = 10;

struct Tissue {
  std::uint8_t label;
  float hu;
};

inline double sq(double v) { return v * v; }
}  // namespace

double Capsule::distance(const Eigen::Vector3d& p) const {
  const Eigen::Vector3d ab = b - a;
  const double t = std::clamp(ab.dot(p - a) / std::max(ab.squaredNorm(), 1e-12), 0.0, 1.0);
  return (a + t * ab - p).norm();
}

ChestLayout chest_layout(const core::VolumeGeometry& g, std::uint64_t seed, int version) {
  HashRng rng(seed ^ 0xC4E57ull);
  ChestLayout c;
  const Eigen::Vector3d lo = g.index_to_world(Eigen::Vector3d::Zero());
  const Eigen::Vector3d hi = g.index_to_world((g.dims.array() - 1).matrix().cast<double>());
  const Eigen::Vector3d fov = hi - lo;
  c.zlo = lo.z();
  c.zhi = hi.z();
  c.L = c.zhi - c.zlo;
  // Body: an adult chest of 290-330 mm width and 0.62-0.72 of that depth, smaller when the field is.
  // Version 2: 292-312 mm wide (version 1: 296-326 mm), which with the domes below puts the lungs at 3.5-5 L.
  c.a = std::min(0.45 * fov.x(), version == 1 ? rng.range(148, 163) : rng.range(146, 156));
  c.b = std::min(rng.range(0.62, 0.70) * c.a, 0.45 * fov.y());
  const double s = c.a / 155.0;  // scale of the lateral sizes against a 310 mm chest
  c.fat_mm = rng.range(5, 14) * s;
  c.muscle_mm = rng.range(6, 10) * s;
  c.wall_mm = c.skin_mm + c.fat_mm + c.muscle_mm + 9 * s;  // ribs and intercostal muscle
  // Heights (fractions of the field, which holds neck to upper abdomen in a chest CT).
  const double zs = std::min(1.0, c.L / 320.0);
  c.carina = Eigen::Vector3d(0, 0.05 * c.b, c.zlo + c.L * rng.range(0.64, 0.69));
  const double apex = c.zhi - c.L * rng.range(0.03, 0.06);
  c.apex_z[0] = apex;
  c.apex_z[1] = apex + rng.range(-4, 4) * zs;
  c.dome_z[0] = c.zlo + c.L * (version == 1 ? rng.range(0.26, 0.31) : rng.range(0.27, 0.31));
  c.dome_z[1] = c.dome_z[0] - rng.range(12, 22) * zs;  // the left dome 1-2 cm lower
  c.dome_drop = rng.range(50, 62) * zs;
  for (int side = 0; side < 2; ++side) {
    const double sx = side == 0 ? -1 : 1;
    c.dome_c[side] = Eigen::Vector2d(sx * 0.45 * c.a, -0.05 * c.b);
    c.apex_c[side] = Eigen::Vector2d(sx * 0.42 * c.a, 0.15 * c.b);
  }
  c.apex_r = 0.45 * c.a;
  c.apex_cap = rng.range(80, 100) * zs;
  c.medial_mm = rng.range(7, 10) * s;
  // Heart: left of the midline, anterior, resting on the left dome; its size varies.
  const double hs = rng.range(0.92, 1.08);
  c.heart_r = Eigen::Vector3d(0.32 * c.a * hs, 0.40 * c.b * hs, 50 * zs * hs);
  c.heart_c = Eigen::Vector3d(0.10 * c.a, -0.22 * c.b, c.dome_z[1] + 0.65 * c.heart_r.z());
  // Spine.
  c.spine_y = 0.62 * c.b;
  c.vb_r = 0.13 * c.b;
  c.canal_y = c.spine_y + c.vb_r + 8.0 * s;
  c.rib_pitch = rng.range(22, 26) * zs;
  c.rib_top = c.apex_z[0] + 4;
  c.rib_slope = rng.range(85, 100) * zs;
  // Great vessels and the pulmonary circulation (radii of adults, unenhanced blood).
  const double heart_top = c.heart_c.z() + 0.7 * c.heart_r.z();
  const double arch_z = c.carina.z() + rng.range(12, 20) * zs;
  const Eigen::Vector3d asc(-0.04 * c.a, -0.12 * c.b, arch_z);
  const Eigen::Vector3d desc(0.13 * c.a, c.spine_y - c.vb_r - 4 * s, arch_z);
  const double ra = rng.range(13, 16) * s;
  c.blood.push_back({Eigen::Vector3d(asc.x(), asc.y(), heart_top - 10), asc, ra});          // ascending aorta
  c.blood.push_back({asc, Eigen::Vector3d(0.06 * c.a, 0.25 * c.b, arch_z + 8 * zs), ra});   // arch
  c.blood.push_back({Eigen::Vector3d(0.06 * c.a, 0.25 * c.b, arch_z + 8 * zs), desc, ra});  // arch
  c.blood.push_back({desc, Eigen::Vector3d(desc.x(), desc.y(), c.zlo - 10), 0.85 * ra});    // descending
  c.blood.push_back({Eigen::Vector3d(-0.14 * c.a, -0.10 * c.b, c.carina.z() - 30 * zs),     // SVC
                     Eigen::Vector3d(-0.14 * c.a, -0.14 * c.b, c.zhi - 0.12 * c.L), 10 * s});
  const Eigen::Vector3d trunk_lo(0.08 * c.a, -0.30 * c.b, heart_top - 15);
  const Eigen::Vector3d bifurcation(0.03 * c.a, -0.02 * c.b, c.carina.z() - 14 * zs);
  c.blood.push_back({trunk_lo, bifurcation, 13 * s});  // pulmonary trunk
  for (int side = 0; side < 2; ++side) {
    const double sx = side == 0 ? -1 : 1;
    c.hilum_artery[side] = Eigen::Vector3d(sx * 0.30 * c.a, 0.02 * c.b, c.carina.z() - rng.range(16, 26) * zs);
    c.hilum_vein[side] = Eigen::Vector3d(sx * 0.27 * c.a, -0.08 * c.b, c.carina.z() - rng.range(45, 60) * zs);
    c.blood.push_back({bifurcation, c.hilum_artery[side] - Eigen::Vector3d(sx * 16 * s, 0, 0), 10 * s});
    const Eigen::Vector3d atrium(0.04 * c.a, c.heart_c.y() + 0.75 * c.heart_r.y(), c.heart_c.z() + 10 * zs);
    c.blood.push_back({atrium, c.hilum_vein[side] - Eigen::Vector3d(sx * 14 * s, 0, 0), 7 * s});
  }
  // Trachea (lumen radius 8-10 mm) above the carina, main bronchi to the hila (the right one steeper and shorter).
  const double tr = rng.range(8, 10) * s;
  c.airways.push_back({c.carina, Eigen::Vector3d(0, 0.0, c.zhi + 10), tr});
  for (int side = 0; side < 2; ++side) {
    const double sx = side == 0 ? -1 : 1;
    const Eigen::Vector3d end = c.hilum_artery[side] + Eigen::Vector3d(-sx * 14 * s, 0.06 * c.b, -6 * zs);
    c.airways.push_back({c.carina, end, (side == 0 ? 7.0 : 6.0) * s});
  }
  c.esophagus = {Eigen::Vector3d(0.03 * c.a, c.spine_y - c.vb_r - 9 * s, c.zlo - 10),
                 Eigen::Vector3d(0.0, c.spine_y - c.vb_r - 9 * s, c.zhi + 10), 7 * s};
  // Abdomen below the domes: liver fills the right upper quadrant (and what is not stomach or spleen).
  c.stomach_c = Eigen::Vector3d(0.35 * c.a, -0.10 * c.b, c.dome_z[1] - 55 * zs);
  c.stomach_r = Eigen::Vector3d(0.25 * c.a, 0.38 * c.b, 45 * zs);
  c.spleen_c = Eigen::Vector3d(0.60 * c.a, 0.45 * c.b, c.dome_z[1] - 50 * zs);
  c.spleen_r = Eigen::Vector3d(0.16 * c.a, 0.30 * c.b, 45 * zs);
  return c;
}

void add_contrast(ChestLayout& c, std::uint64_t seed, const ChestContrastOptions& options) {
  HashRng rng(seed ^ 0xC0C7A57ull);
  const double enhanced = rng.uniform(), dense = rng.uniform();
  const double enhancement = rng.range(150, 350), dense_hu = rng.range(1500, 3071);
  const double arm = rng.uniform(), core_fraction = rng.range(0.4, 0.8), vein_r = rng.range(5, 7.5);
  if (enhanced >= options.probability) return;
  c.blood_enhancement_hu = enhancement;
  if (dense >= options.dense_vein_probability) return;
  // The arm veins most often injected: right (~3 of 4). The path of the contrast: subclavian vein over the first rib
  // to the body edge, brachiocephalic vein down to the SVC's top (the left one crosses the midline in front of the
  // arch), then a core of the SVC (undiluted contrast streams along the wall before mixing in the atrium).
  c.injection_side = arm < 0.75 ? 0 : 1;
  c.dense_vein_hu = dense_hu;
  const Capsule& svc = c.blood[4];  // chest_layout's order: ascending aorta, arch, arch, descending, SVC, ...
  const Eigen::Vector3d top = svc.b.z() > svc.a.z() ? svc.b : svc.a, bottom = svc.b.z() > svc.a.z() ? svc.a : svc.b;
  const double sx = c.injection_side == 0 ? -1 : 1;
  const double s = c.a / 155.0, zs = std::min(1.0, c.L / 320.0);
  const Eigen::Vector3d junction(sx * 0.32 * c.a, -0.25 * c.b, top.z() + 22 * zs);
  const Eigen::Vector3d edge(sx * 1.05 * c.a, -0.05 * c.b, std::min(c.zhi, junction.z() + 45 * zs));
  c.dense_veins.push_back({edge, junction, vein_r * s});                                 // subclavian (and axillary)
  c.dense_veins.push_back({junction, top, vein_r * s});                                  // brachiocephalic
  c.dense_veins.push_back({top, bottom + 0.2 * (top - bottom), core_fraction * svc.r});  // SVC core
  // As blood too, so that the lungs keep their 3 mm from the new veins (the SVC core lies inside the SVC already).
  c.blood.push_back(c.dense_veins[0]);
  c.blood.push_back(c.dense_veins[1]);
}

namespace {

// Beyond kReach mm from a capsule's surface only "far" matters (the lungs keep 3 mm from mediastinal organs).
constexpr double kReach = 6;

// A capsule's x-y bounding box grown by its radius and kReach: points outside it are far from the capsule.
inline bool near_xy(const Capsule& c, double x, double y) {
  const double m = c.r + kReach;
  return x >= std::min(c.a.x(), c.b.x()) - m && x <= std::max(c.a.x(), c.b.x()) + m &&
         y >= std::min(c.a.y(), c.b.y()) - m && y <= std::max(c.a.y(), c.b.y()) + m;
}

class ChestTissues {
 public:
  ChestTissues(const ChestLayout& lay, const LatticeNoise& coarse, const LatticeNoise& fine)
      : c_(lay), coarse_(coarse), fine_(fine), enhancement_(float(lay.blood_enhancement_hu)) {}

  // Capsules that can touch slice z.
  void select(double z, std::vector<const Capsule*>& blood, std::vector<const Capsule*>& airways) const {
    blood.clear();
    airways.clear();
    for (const auto& cap : c_.blood)
      if (z >= cap.zmin() - kReach && z <= cap.zmax() + kReach) blood.push_back(&cap);
    for (const auto& cap : c_.airways)
      if (z >= cap.zmin() - kReach && z <= cap.zmax() + kReach) airways.push_back(&cap);
  }

  Tissue at(const Eigen::Vector3d& p, const std::vector<const Capsule*>& blood,
            const std::vector<const Capsule*>& airways) const {
    const double x = p.x(), y = p.y(), z = p.z();
    const double u = x / c_.a, v = y / c_.b;
    const double rho = std::sqrt(u * u + v * v);
    if (rho > 1) return {kLabelOutside, kAir};
    const double r_mm = std::sqrt(x * x + y * y) / std::max(rho, 1e-6);  // mm per unit of rho along this ray
    const double depth = (1 - rho) * r_mm;                               // below the skin
    // Texture only where a tissue uses it (the lattice lookups are the costliest part).
    struct Lazy {
      const LatticeNoise& n;
      const Eigen::Vector3d& p;
      mutable float v = 0;
      mutable bool done = false;
      operator float() const {
        if (!done) v = n(p), done = true;
        return v;
      }
    };
    const Lazy f{fine_, p};

    if (const auto bone = spine(p)) return *bone;
    for (const Capsule& vein : c_.dense_veins)
      if (vein.distance(p) < vein.r)
        return {kLabelMediastinum, std::min(3071.f, float(c_.dense_vein_hu) + 40 * f)};  // the scanner's ceiling
    if (depth < c_.skin_mm) return {kLabelSoftTissue, kSkin + 6 * f};
    const double posterior = std::max(0.0, v / std::max(rho, 1e-6));  // paraspinal muscles: a thicker back wall
    const double fat_end = c_.skin_mm + c_.fat_mm;
    const double muscle_end = fat_end + c_.muscle_mm * (1 + 0.8 * posterior);
    const double wall = c_.wall_mm + c_.muscle_mm * 0.8 * posterior;
    if (depth < fat_end) return {kLabelSoftTissue, kFat + 12 * float(coarse_(p))};
    const double theta = depth < wall ? std::atan2(v, std::abs(u)) : 0;  // +90 deg posterior, -90 anterior
    const double t = (kPi / 2 - theta) / kPi;                            // 0 posterior ... 1 anterior
    if (depth < wall) {
      if (const auto bone = shoulder_girdle(x, y, z, depth, theta, t, fat_end, float(f))) return *bone;
      if (depth < muscle_end) return {kLabelSoftTissue, kMuscle + 8 * f};
      if (const auto rib = ribs(z, depth - (wall - 5.5), t, float(f))) return *rib;
      return {kLabelSoftTissue, kMuscle - 5 + 8 * f};  // intercostal muscle
    }
    // Inside the thoracic cavity (and the abdomen below it).
    double near_airway = 1e9;
    for (const Capsule* cap : airways) {
      if (!near_xy(*cap, x, y)) continue;
      const double d = cap->distance(p);
      const double wall_t = 1.5 + 0.1 * cap->r;
      if (d < cap->r) return {kLabelAirway, kAir};
      if (d < cap->r + wall_t) return {kLabelAirway, kMuscle};
      near_airway = std::min(near_airway, d - cap->r - wall_t);
    }
    const double de = near_xy(c_.esophagus, x, y) ? c_.esophagus.distance(p) : 1e9;
    if (de < c_.esophagus.r) return {kLabelMediastinum, de < 2 ? kAir : kMuscle + 5 * f};
    double near_blood = 1e9;
    for (const Capsule* cap : blood) {
      if (!near_xy(*cap, x, y)) continue;
      const double d = cap->distance(p) - cap->r;
      if (d < 0) return {kLabelMediastinum, kBlood + enhancement_ + 6 * f};
      near_blood = std::min(near_blood, d);
    }
    const double hq = (p - c_.heart_c).cwiseQuotient(c_.heart_r).norm();
    if (hq <= 1) return {kLabelMediastinum, kBlood + 0.7f * enhancement_ + 8 * f};  // chambers and myocardium as one
    const int side = x < 0 ? 0 : 1;
    const double floor = diaphragm(side, x, y);
    if (z < floor - 4) return abdomen(p, side, floor, float(f));
    if (z < floor) return {kLabelSoftTissue, kMuscle + 6 * f};  // the diaphragm muscle
    // Lungs: above the floor, under the apex, off the mediastinum and its organs.
    const double heart_gap = (hq - 1) * c_.heart_r.minCoeff();  // ~ distance outside the heart
    const bool off_mediastinum = std::abs(x) > c_.medial_mm && near_blood > 3 && near_airway > 3 && heart_gap > 4 &&
                                 de > c_.esophagus.r + 3 && !near_spine(x, y);
    if (off_mediastinum && below_apex(side, x, y, z)) {
      const float hu = -870.f + 28.f * float(coarse_(p)) + 12.f * f + float(50.0 * std::max(0.0, y / c_.b));
      return {side == 0 ? kLabelRightLung : kLabelLeftLung, hu};
    }
    if (z > c_.apex_z[side] - 5 || std::abs(x) > 0.6 * c_.a)
      return {kLabelSoftTissue, kMuscle - 10 + 8 * f};  // neck, above the apices
    return {kLabelMediastinum, kFat + 15 * float(coarse_(p))};
  }

 private:
  // Vertebral bodies with discs, the canal and the posterior arch (spinous process).
  std::optional<Tissue> spine(const Eigen::Vector3d& p) const {
    const double x = p.x(), y = p.y(), z = p.z();
    if (std::abs(x) > c_.vb_r + 12 || y < c_.spine_y - c_.vb_r) return std::nullopt;
    const double dvb = std::sqrt(sq(x) + sq(y - c_.spine_y));
    const bool disc = std::fmod(z - c_.zlo + 1000.0 * 25.0, 25.0) < 5.0;
    if (dvb < c_.vb_r) {
      if (disc) return Tissue{kLabelSoftTissue, kMarrowDisc};
      return Tissue{kLabelBone, dvb > c_.vb_r - 2.0 ? kCortical - 150 : kCancellous};
    }
    const double dcanal = std::sqrt(sq(x) + sq(y - c_.canal_y));
    if (dcanal < 7.0) return Tissue{kLabelSoftTissue, kCsf};
    const double rho = std::sqrt(sq(x / c_.a) + sq(y / c_.b));
    if (!disc && ((dcanal < 11.5 && y > c_.canal_y - 3) || (std::abs(x) < 4.0 && y > c_.canal_y && rho < 0.93)))
      return Tissue{kLabelBone, kCortical - 350};
    return std::nullopt;
  }

  bool near_spine(double x, double y) const {
    return y > c_.spine_y - c_.vb_r - 4 && std::abs(x) < c_.vb_r + 6 + 12 * std::max(0.0, (y - c_.spine_y) / c_.vb_r);
  }

  // 12 rib pairs: bands just outside the pleura, sloping down toward the front; costal cartilage anteriorly.
  std::optional<Tissue> ribs(double z, double d_radial, double t, float f) const {
    if (std::abs(d_radial) >= 4.0 || t < 0.02 || t > 0.95) return std::nullopt;
    const double zc0 = c_.rib_top - c_.rib_slope * t;
    const int n = static_cast<int>(std::lround((zc0 - z) / c_.rib_pitch));
    if (n < 0 || n >= 12) return std::nullopt;
    const double zc = zc0 - n * c_.rib_pitch;
    const double e = sq(d_radial / 3.6) + sq((z - zc) / 4.5);
    if (e > 1) return std::nullopt;
    if (t > 0.80) return Tissue{kLabelSoftTissue, kCartilage + 15 * f};
    return Tissue{kLabelBone, e > 0.45 ? kCortical + 100 * f : kCancellous + 60 * f};
  }

  // Sternum (front midline), scapulae (back, in the muscle layer), clavicles (top front).
  std::optional<Tissue> shoulder_girdle(double x, double y, double z, double depth, double theta, double t,
                                        double fat_end, float f) const {
    if (std::abs(x) < 15.0 && y < 0 && depth > fat_end && depth < fat_end + 13 && z > c_.zlo + 0.35 * c_.L &&
        z < c_.zhi - 0.06 * c_.L) {
      const bool inner = std::abs(x) < 12.5 && depth > fat_end + 2.5 && depth < fat_end + 10.5;
      return Tissue{kLabelBone, inner ? kCancellous + 40 * f : kCortical - 150 + 80 * f};
    }
    if (depth > fat_end + 2 && depth < fat_end + 7 && theta > 0.45 && theta < 1.2 && z > c_.zhi - 0.45 * c_.L &&
        z < c_.zhi - 0.03 * c_.L)
      return Tissue{kLabelBone, 700.f + 100 * f};  // thin plate: cortex and marrow averaged
    if (theta < -0.3 && theta > -1.35 && depth > fat_end && depth < fat_end + 16 &&
        std::abs(z - (c_.zhi - 0.06 * c_.L + 12.0 * (t - 0.75))) < 6.0)
      return Tissue{kLabelBone, 760.f + 90 * f};
    return std::nullopt;
  }

  // The lung floor: a dome per side that falls toward the chest wall (deepest posteriorly: the recesses).
  double diaphragm(int side, double x, double y) const {
    const Eigen::Vector2d& dc = c_.dome_c[side];
    const double by = y < dc.y() ? 0.95 * c_.b : 0.62 * c_.b;  // shallower anteriorly
    const double q = sq((x - dc.x()) / (0.50 * c_.a)) + sq((y - dc.y()) / by);
    return c_.dome_z[side] - c_.dome_drop * q;
  }

  bool below_apex(int side, double x, double y, double z) const {
    const double top = c_.apex_z[side];
    if (z >= top) return false;
    if (z < top - c_.apex_cap) return true;
    const double f = std::sqrt((top - z) / c_.apex_cap);  // an elliptic cap, rounder at the top
    return sq((x - c_.apex_c[side].x()) / (c_.apex_r * f)) + sq((y - c_.apex_c[side].y()) / (c_.b * f)) < 1;
  }

  Tissue abdomen(const Eigen::Vector3d& p, int side, double floor, float f) const {
    const Eigen::Vector3d qs = (p - c_.stomach_c).cwiseQuotient(c_.stomach_r);
    if (qs.squaredNorm() <= 1) {
      const bool gas = qs.z() > 0.7 && p.z() > floor - 30;  // fundus bubble under the left dome
      return {kLabelSoftTissue, gas ? kAir : kStomach + 8 * f};
    }
    if ((p - c_.spleen_c).cwiseQuotient(c_.spleen_r).squaredNorm() <= 1) return {kLabelSoftTissue, kSpleen + 6 * f};
    if (side == 0 || p.x() < 0.25 * c_.a) return {kLabelSoftTissue, kLiver + 6 * f};
    return {kLabelSoftTissue, (coarse_(p) > 0.1f ? kFat : 30.f) + 10 * f};  // bowel and mesenteric fat
  }

  const ChestLayout& c_;
  const LatticeNoise& coarse_;
  const LatticeNoise& fine_;
  float enhancement_;
};

}  // namespace

void paint_chest_tissues(const ChestLayout& lay, const LatticeNoise& coarse, const LatticeNoise& fine, Phantom& ph) {
  const auto& g = ph.ct.hu.geometry();
  const ChestTissues tissues(lay, coarse, fine);
  core::parallel_for(g.dims.z(), [&](int k) {
    std::vector<const Capsule*> blood, airways;
    tissues.select(g.index_to_world(Eigen::Vector3d(0, 0, k)).z(), blood, airways);
    for (int j = 0; j < g.dims.y(); ++j)
      for (int i = 0; i < g.dims.x(); ++i) {
        const Tissue t = tissues.at(g.index_to_world(Eigen::Vector3d(i, j, k)), blood, airways);
        ph.labels.at(i, j, k) = t.label;
        ph.ct.hu.at(i, j, k) = static_cast<std::int16_t>(std::lround(t.hu));
      }
  });
}

}  // namespace xraylift::data::detail
