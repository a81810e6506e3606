#pragma once
// Synthetic chest CT phantoms (docs/data.md), deterministic from a seed: the same spec gives the same voxels
// on every machine and thread count. Each nodule's truth box is the exact extent of its voxels (label 8 cells).
#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/data/case.hpp"

namespace xraylift::data {

// Label codes of Phantom::labels.
enum PhantomLabel : std::uint8_t {
  kLabelOutside = 0,      // air outside the body
  kLabelSoftTissue = 1,   // fat, muscle, skin
  kLabelRightLung = 2,    // right lung parenchyma (patient right = -x)
  kLabelLeftLung = 3,     // left lung parenchyma (+x)
  kLabelBone = 4,         // ribs, spine, sternum, scapulae, clavicles
  kLabelVessel = 5,       // pulmonary vessels
  kLabelAirway = 6,       // trachea and bronchi (lumen and wall)
  kLabelMediastinum = 7,  // heart, great vessels, mediastinum
  kLabelNodule = 8,       // nodules
};

enum class NoduleKind { kSolid, kPartSolid, kGroundGlass };
enum class NoduleShape { kSphere, kLobulated, kSpiculated };
enum class NoduleSite { kParenchyma, kJuxtaPleural, kJuxtaVascular };
const char* to_string(NoduleKind k);
const char* to_string(NoduleShape s);
const char* to_string(NoduleSite s);

// Which anatomy model draws the chest (docs/data.md "Phantoms"): `simple` (analytic shapes and a short vessel tree,
// the model the shipped weights were trained on; the default) or `chest` (domed lungs shaped by the thorax,
// heart, great vessels, abdomen below the domes, and space-colonization vessel trees down to sub-millimetre radii).
enum class PhantomAnatomy { kSimple, kChest };
const char* to_string(PhantomAnatomy a);
PhantomAnatomy parse_phantom_anatomy(const std::string& s, const std::string& where);  // ConfigError if unknown

struct PhantomSpec {
  std::uint64_t seed = 0;
  Eigen::Vector3i dims{256, 256, 160};
  Eigen::Vector3d spacing_mm{1.4, 1.4, 2.0};  // a 358 x 358 x 320 mm field of view by default
  int nodules = 4;
  double nodule_min_diameter_mm = 4.0;
  double nodule_max_diameter_mm = 20.0;
  double noise_hu = 15.0;  // CT noise standard deviation
  bool vessels = true;     // the branching vessel tree (the slowest part)
  PhantomAnatomy anatomy = PhantomAnatomy::kSimple;
  // chest model version (docs/data.md "Anatomy models"): 2 (the default) has the lung sizes and vessel calibres
  // matched to LIDC-IDRI-0001 by `data stats`; 1 is the model the shipped weights were trained on, byte for byte.
  int chest_version = 2;
  // chest model: radius of the tree's end segments (Murray's law above); 0: the version's (1: 0.38 mm, 2: 0.30 mm)
  double vessel_terminal_radius_mm = 0;
  double terminal_radius_mm() const;  // the radius in effect
  // chest model: the share of seeds scanned with intravenous contrast (enhanced blood pool), and of those the share
  // with undiluted contrast in the injection veins (docs/data.md "Contrast"; LIDC-IDRI-0001 has both)
  double contrast_probability = 0.5;
  double dense_vein_probability = 0.5;
  std::string id;  // empty: "phantom-<seed>"

  void validate() const;  // throws ConfigError naming the field
};

struct PhantomNodule {
  core::BoxRecord truth;  // exact voxel-cell extent, world mm
  NoduleKind kind = NoduleKind::kSolid;
  NoduleShape shape = NoduleShape::kSphere;
  NoduleSite site = NoduleSite::kParenchyma;
  Eigen::Vector3d center_mm = Eigen::Vector3d::Zero();
  double radius_mm = 0;
  int voxels = 0;
};

// One node of a chest-model vessel tree: the segment from nodes[parent] to this node has radius radius_mm.
// Roots have parent -1. Radii follow Murray's law: at a node with children c, r^3 = sum r_c^3.
struct PhantomVesselNode {
  Eigen::Vector3d p = Eigen::Vector3d::Zero();  // world mm
  int parent = -1;
  double radius_mm = 0;
  int tree = 0;  // 0 right artery, 1 right vein, 2 left artery, 3 left vein
};

struct Phantom {
  Case ct;                // ct.nodules mirrors nodules[i].truth; ct.meta.source = "phantom"
  core::VolumeU8 labels;  // PhantomLabel codes
  std::vector<PhantomNodule> nodules;
  core::VolumeU8 nodule_ids;                   // 0 = none, n = nodules[n - 1] (for simulated reader contours)
  std::vector<PhantomVesselNode> vessel_tree;  // chest model only (empty for `simple`)
};

Phantom generate_phantom(const PhantomSpec& spec);

// Reads a spec from config keys (relative to cfg): seed, dims [x, y, z], spacing_mm [x, y, z], nodules,
// nodule_min_diameter_mm, nodule_max_diameter_mm, noise_hu, vessels, anatomy (simple | chest),
// chest_version, vessel_terminal_radius_mm, contrast_probability, dense_vein_probability; absent keys keep `base`'s
// values.
PhantomSpec phantom_spec_from_config(const core::Config& cfg, PhantomSpec base = {});

}  // namespace xraylift::data
