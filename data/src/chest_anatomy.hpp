#pragma once
// The `chest` anatomy model of the phantoms (docs/data.md "Phantoms", model `chest`): tissues from a seeded layout
// (chest_anatomy.cpp) and space-colonization vessel trees with Murray-law radii, rendered with partial volume
// (chest_vessels.cpp). Internal to the data module; phantom.cpp strings the steps together and adds the nodules.
#include <Eigen/Core>

#include <cstdint>
#include <vector>

#include "phantom_noise.hpp"
#include "xraylift/data/phantom.hpp"

namespace xraylift::data::detail {

// Portable random numbers: splitmix64 of a counter (the same on every standard library, unlike std::*_distribution).
struct HashRng {
  std::uint64_t state;
  explicit HashRng(std::uint64_t seed) : state(mix64(seed)) {}
  double uniform() { return double(mix64(state++) >> 11) * 0x1.0p-53; }  // [0, 1)
  double range(double lo, double hi) { return lo + (hi - lo) * uniform(); }
};

struct Capsule {
  Eigen::Vector3d a, b;
  double r;
  double distance(const Eigen::Vector3d& p) const;  // to the axis segment
  double zmin() const { return std::min(a.z(), b.z()) - r; }
  double zmax() const { return std::max(a.z(), b.z()) + r; }
};

// Every size of the chest in world mm (docs/ARCHITECTURE.md "Conventions": LPS, x = patient left, y = posterior,
// z = superior), drawn from the seed within adult ranges and scaled to the field of view when it is small.
struct ChestLayout {
  double zlo = 0, zhi = 0, L = 0;                                 // z range of voxel centres
  double a = 0, b = 0;                                            // body semi-axes (left-right, anterior-posterior)
  double skin_mm = 2, fat_mm = 12, muscle_mm = 10, wall_mm = 34;  // skin to parietal pleura = wall_mm
  double apex_z[2] = {0, 0};                                      // [0] right lung, [1] left lung
  double dome_z[2] = {0, 0};                                      // top of each diaphragm dome (right higher)
  Eigen::Vector2d dome_c[2];                                      // dome centres (x, y)
  double dome_drop = 55;  // how far the floor falls from the dome top to the posterior chest wall
  double apex_r = 60;     // x semi-axis of the apical cap where it meets the full cross-section
  double apex_cap = 55;   // height of the apical cap
  Eigen::Vector2d apex_c[2];
  double medial_mm = 11;  // half-width of the mediastinal band everywhere
  Eigen::Vector3d heart_c, heart_r;
  Eigen::Vector3d carina;
  Eigen::Vector3d hilum_artery[2], hilum_vein[2];  // nominal tree roots (moved onto the lung by the vessel step)
  double spine_y = 0, vb_r = 0, canal_y = 0;
  double rib_pitch = 24, rib_top = 0, rib_slope = 95;
  Eigen::Vector3d stomach_c, stomach_r, spleen_c, spleen_r;
  std::vector<Capsule> blood;    // aorta, SVC, pulmonary trunk and arteries, pulmonary veins (+40 HU)
  std::vector<Capsule> airways;  // trachea and main bronchi (lumen r; wall added)
  Capsule esophagus;
  // Intravenous contrast (add_contrast; none by default): HU added to the blood pool (great vessels, pulmonary
  // trees; the heart, myocardium included, gets 70 % of it), and undiluted contrast in the veins it was injected
  // through (subclavian -> brachiocephalic -> a core of the SVC) at dense_vein_hu.
  double blood_enhancement_hu = 0;
  std::vector<Capsule> dense_veins;
  double dense_vein_hu = 0;
  int injection_side = -1;  // 0 right arm, 1 left arm, -1 no dense veins
};

// `version` 1 or 2 (PhantomSpec::chest_version): the same draws, version 2 from narrower ranges of the body width
// and of the dome height (smaller lungs, matched to LIDC-IDRI-0001's volume by `data stats`).
ChestLayout chest_layout(const core::VolumeGeometry& g, std::uint64_t seed, int version);

// How often a phantom is a contrast-enhanced scan (docs/data.md "Contrast"); PhantomSpec carries the numbers.
struct ChestContrastOptions {
  double probability = 0;             // of an enhanced blood pool
  double dense_vein_probability = 0;  // of undiluted contrast in the injection veins, given an enhanced scan
};

// Draws the contrast phase of the seed into the layout from its own random stream, so that a phantom without
// contrast keeps the bytes it had before contrast existed. The enhancement is uniform in 150-350 HU and the dense
// veins 1500-3071 HU (LIDC-IDRI-0001: blood pool 300-450 HU, SVC and right subclavian 2000-3071 HU).
void add_contrast(ChestLayout& lay, std::uint64_t seed, const ChestContrastOptions& options);

// Labels and HU of every voxel (no vessels inside the lungs yet).
void paint_chest_tissues(const ChestLayout& lay, const LatticeNoise& coarse, const LatticeNoise& fine, Phantom& ph);

struct ChestVesselOptions {
  double terminal_radius_mm = 0.38;
  int attractors_per_litre = 16000;  // space-colonization attraction points per litre of lung
  double step_mm = 2.0;              // node spacing D
  double kill_mm = 3.0;              // attraction points closer than this to a node are reached
  double influence_mm = 25.0;        // a point attracts only its nearest node within this distance
};

// Space colonization (Runions, Lane & Prusinkiewicz 2007) from the hila into each lung's labelled voxels: an
// arterial and a venous tree per lung compete for the attraction points; radii by Murray's law from the terminal
// radius. Roots come first; every node's parent has a smaller index.
std::vector<PhantomVesselNode> grow_chest_vessels(const ChestLayout& lay, const Phantom& ph, std::uint64_t seed,
                                                  const ChestVesselOptions& opt);

// Partial-volume rendering of the trees into the lungs (blood +40 HU plus the layout's contrast enhancement), and of
// airways (lumen -1000 HU, wall +40 HU) beside the arteries of radius >= 1 mm. Returns the number of airway segments.
int paint_chest_vessels(const std::vector<PhantomVesselNode>& nodes, double blood_enhancement_hu, Phantom& ph);

}  // namespace xraylift::data::detail
