// The `chest` anatomy model of the phantoms (data/src/chest_anatomy.cpp; docs/data.md "Phantoms").
#include <gtest/gtest.h>

#include <cstdint>
#include <ctime>
#include <map>

#include "xraylift/core/config.hpp"
#include "xraylift/data/phantom.hpp"

using namespace xraylift;

namespace {
// The grid of configs/data/phantom_chest_small.yaml.
data::PhantomSpec chest_spec(std::uint64_t seed, int nodules = 0) {
  data::PhantomSpec s;
  s.anatomy = data::PhantomAnatomy::kChest;
  s.seed = seed;
  s.dims = {128, 128, 48};
  s.spacing_mm = {2.6, 2.2, 6.5};
  s.nodules = nodules;
  s.nodule_min_diameter_mm = 8;
  s.nodule_max_diameter_mm = 20;
  return s;
}

std::uint64_t fnv1a(std::uint64_t h, const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}
}  // namespace

// Catches any draw that depends on memory addresses, thread order or uninitialized state.
TEST(ChestAnatomy, DeterministicPerSeed) {
  const auto a = data::generate_phantom(chest_spec(5, 3));
  const auto b = data::generate_phantom(chest_spec(5, 3));
  EXPECT_EQ(a.ct.hu.values(), b.ct.hu.values());
  EXPECT_EQ(a.labels.values(), b.labels.values());
  EXPECT_EQ(a.nodule_ids.values(), b.nodule_ids.values());
  ASSERT_EQ(a.vessel_tree.size(), b.vessel_tree.size());
  for (std::size_t n = 0; n < a.vessel_tree.size(); ++n) EXPECT_EQ(a.vessel_tree[n].p, b.vessel_tree[n].p) << n;
  EXPECT_EQ(a.ct.meta.value("anatomy", ""), "chest");
  EXPECT_NE(data::generate_phantom(chest_spec(6)).ct.hu.values(), a.ct.hu.values());  // the seed matters
}

// The `simple` model stays byte-for-byte what main generated before the chest model existed (the shipped weights
// were trained on it): the hash below was computed with main's library (commit deb5272) and this branch's alike.
// Catches a shared step (nodules, noise, meta) that changed for both models.
TEST(ChestAnatomy, SimpleModelIsUnchanged) {
  std::uint64_t h = 1469598103934665603ull;
  for (int seed : {7, 91101}) {
    data::PhantomSpec s = chest_spec(seed, 3);
    s.anatomy = data::PhantomAnatomy::kSimple;
    const auto ph = data::generate_phantom(s);
    h = fnv1a(h, ph.ct.hu.values().data(), ph.ct.hu.values().size() * 2);
    h = fnv1a(h, ph.labels.values().data(), ph.labels.values().size());
    h = fnv1a(h, ph.nodule_ids.values().data(), ph.nodule_ids.values().size());
    const std::string m = ph.ct.meta.dump();
    h = fnv1a(h, m.data(), m.size());
  }
  EXPECT_EQ(h, 0x3930728b9e731debull);
  EXPECT_EQ(data::PhantomSpec{}.anatomy, data::PhantomAnatomy::kSimple);  // still the default
}

// Contrast draws come from their own stream: a seed drawn unenhanced (and every seed at contrast_probability 0) keeps
// the voxels main generated before contrast existed. The hashes were computed with main's library at commit 1c7a378
// (hu, labels, nodule ids of chest_spec(seed, 3)). Catches a contrast draw taken from the layout's stream, which would
// move every chest phantom's anatomy.
TEST(ChestAnatomy, UnenhancedSeedsAreUnchanged) {
  // Seeds 6 and 8 are drawn unenhanced at the default probabilities, seed 1 enhanced.
  const std::map<std::uint64_t, std::uint64_t> before = {
      {1, 0xde0c67ddd5354889ull}, {6, 0x53cb7aa6588a2ae4ull}, {8, 0x3e769639b961d7abull}};
  auto hash = [](const data::Phantom& ph) {
    std::uint64_t h = 1469598103934665603ull;
    h = fnv1a(h, ph.ct.hu.values().data(), ph.ct.hu.values().size() * 2);
    h = fnv1a(h, ph.labels.values().data(), ph.labels.values().size());
    return fnv1a(h, ph.nodule_ids.values().data(), ph.nodule_ids.values().size());
  };
  int unenhanced = 0, enhanced = 0;
  for (const auto& [seed, h] : before) {
    data::PhantomSpec off = chest_spec(seed, 3);
    off.chest_version = 1;  // the hashes are version 1's (the model the shipped weights were trained on)
    off.contrast_probability = 0;
    if (seed == 1) EXPECT_EQ(hash(data::generate_phantom(off)), h) << "seed " << seed << " without contrast";
    data::PhantomSpec drawn = chest_spec(seed, 3);  // the default probabilities
    drawn.chest_version = 1;
    const auto ph = data::generate_phantom(drawn);
    ASSERT_TRUE(ph.ct.meta.contains("contrast"));
    if (ph.ct.meta["contrast"].value("blood_enhancement_hu", -1.0) == 0.0) {
      ++unenhanced;
      EXPECT_EQ(hash(ph), h) << "seed " << seed << " drawn unenhanced";
    } else {
      ++enhanced;
      EXPECT_NE(hash(ph), h) << "seed " << seed << " drawn enhanced";
    }
  }
  EXPECT_GT(unenhanced, 0);
  EXPECT_GT(enhanced, 0);
}

// An enhanced scan with dense injection veins (noise 0): the blood pool at +40 + 150..350 HU, the intrapulmonary
// vessels brighter than the same seed's unenhanced ones, dense contrast (>= 1500 HU) mostly on the injection side
// and above the heart, and never inside the lungs. Catches enhancement that misses the trees or the mediastinal
// blood, and dense veins drawn into the lung (which would make them nodule-like blobs in the parenchyma).
TEST(ChestAnatomy, ContrastEnhancesBloodAndFillsTheInjectionVeins) {
  data::PhantomSpec s = chest_spec(11);
  s.chest_version = 1;  // its 0.38 mm vessel ends label enough vessel voxels on this coarse grid
  s.noise_hu = 0;
  s.contrast_probability = 1;
  s.dense_vein_probability = 1;
  const auto ph = data::generate_phantom(s);
  const auto& c = ph.ct.meta["contrast"];
  const double e = c.value("blood_enhancement_hu", 0.0);
  EXPECT_GE(e, 150);
  EXPECT_LE(e, 350);
  ASSERT_TRUE(c.contains("injection_side"));
  const double side = c["injection_side"] == "right" ? -1 : 1;
  s.contrast_probability = 0;
  const auto plain = data::generate_phantom(s);
  const auto& g = ph.labels.geometry();
  std::int64_t dense = 0, dense_on_side = 0, dense_in_lung = 0, pool = 0;
  double vessel_sum[2] = {0, 0};
  std::int64_t vessels[2] = {0, 0};
  for (int k = 0; k < g.dims.z(); ++k)
    for (int j = 0; j < g.dims.y(); ++j)
      for (int i = 0; i < g.dims.x(); ++i) {
        const int hu = ph.ct.hu.at(i, j, k);
        const auto l = ph.labels.at(i, j, k);
        const Eigen::Vector3d p = g.index_to_world(Eigen::Vector3d(i, j, k));
        if (hu >= 1500) {
          ++dense;
          dense_on_side += side * p.x() > 0;
          dense_in_lung += l == data::kLabelRightLung || l == data::kLabelLeftLung || l == data::kLabelVessel;
        }
        if (l == data::kLabelMediastinum && hu >= 40 + 150 - 10 && hu <= 40 + 350 + 10) ++pool;
        if (l == data::kLabelVessel && plain.labels.at(i, j, k) == data::kLabelVessel) {
          vessel_sum[0] += plain.ct.hu.at(i, j, k), vessel_sum[1] += hu;
          ++vessels[0], ++vessels[1];
        }
      }
  EXPECT_GT(dense, 50);
  EXPECT_GT(double(dense_on_side), 0.6 * double(dense));
  EXPECT_EQ(dense_in_lung, 0);
  EXPECT_GT(pool, 1000);
  ASSERT_GT(vessels[0], 100);
  EXPECT_GT(vessel_sum[1] / vessels[1], vessel_sum[0] / vessels[0] + 0.3 * e);
}

// Lungs of an adult at breath-hold (3.5-6.5 L) for several seeds, and the right dome above the left: the lowest
// lung voxel in the column through each lung's centroid. Catches lungs shaped by the box (7 L) or flat bases.
TEST(ChestAnatomy, LungVolumesAndDomes) {
  for (const int version : {1, 2})
    for (std::uint64_t seed : {1, 2, 3}) {
      data::PhantomSpec spec = chest_spec(seed);
      spec.chest_version = version;
      const auto ph = data::generate_phantom(spec);
      const auto& g = ph.labels.geometry();
      const double ml = g.spacing.prod() / 1000.0;
      double vol[2] = {0, 0};
      Eigen::Vector2d sum[2] = {Eigen::Vector2d::Zero(), Eigen::Vector2d::Zero()};
      for (int k = 0; k < g.dims.z(); ++k)
        for (int j = 0; j < g.dims.y(); ++j)
          for (int i = 0; i < g.dims.x(); ++i) {
            const auto l = ph.labels.at(i, j, k);
            // Vessels (painted only inside the lungs) count for the lung they sit in (x < 0 right).
            if (l != data::kLabelRightLung && l != data::kLabelLeftLung && l != data::kLabelVessel) continue;
            const int side = g.index_to_world(Eigen::Vector3d(i, j, k)).x() < 0 ? 0 : 1;
            vol[side] += ml;
            sum[side] += Eigen::Vector2d(i, j);
          }
      const double litres = (vol[0] + vol[1]) / 1000.0;
      EXPECT_GE(litres, 3.5) << "seed " << seed << ", version " << version;
      EXPECT_LE(litres, 6.5) << "seed " << seed << ", version " << version;
      double floor_z[2];
      for (int side = 0; side < 2; ++side) {
        const Eigen::Vector2d c = sum[side] / (vol[side] / ml);
        const int i = int(std::lround(c.x())), j = int(std::lround(c.y()));
        int k = 0;
        while (k < g.dims.z() && ph.labels.at(i, j, k) != (side == 0 ? data::kLabelRightLung : data::kLabelLeftLung))
          ++k;
        ASSERT_LT(k, g.dims.z()) << "no lung in the centroid column, side " << side;
        floor_z[side] = g.index_to_world(Eigen::Vector3d(i, j, k)).z();
      }
      EXPECT_GT(floor_z[0], floor_z[1] + 5) << "seed " << seed << ": the right dome must be higher";
    }
}

// Tissues land in their literature HU: fat, muscle, blood, liver, bone (docs/data.md "Phantoms"). Catches a
// tissue painted in the wrong units or a layer that is missing (no fat, no liver below the right dome).
TEST(ChestAnatomy, TissuesHaveTheirHounsfieldValues) {
  data::PhantomSpec s = chest_spec(4);
  s.noise_hu = 0;
  const auto ph = data::generate_phantom(s);
  std::int64_t fat = 0, liver_like = 0, bone = 0, lung = 0;
  double lung_sum = 0;
  for (std::size_t n = 0; n < ph.labels.values().size(); ++n) {
    const int hu = ph.ct.hu.values()[n];
    const auto l = ph.labels.values()[n];
    if (l == data::kLabelSoftTissue && hu >= -130 && hu <= -70) ++fat;
    if (l == data::kLabelSoftTissue && hu >= 50 && hu <= 70) ++liver_like;
    if (l == data::kLabelBone && hu >= 150) ++bone;
    if (l == data::kLabelRightLung || l == data::kLabelLeftLung) ++lung, lung_sum += hu;
  }
  EXPECT_GT(fat, 1000);
  EXPECT_GT(liver_like, 1000);
  EXPECT_GT(bone, 500);
  ASSERT_GT(lung, 0);
  EXPECT_NEAR(lung_sum / double(lung), -860, 40);
}

// The small config stays cheap for the tests: CPU seconds (all threads), so a loaded machine does not fail it.
TEST(ChestAnatomy, SmallConfigIsFast) {
  const std::clock_t t0 = std::clock();
  const auto ph = data::generate_phantom(chest_spec(9, 3));
  const double cpu_s = double(std::clock() - t0) / CLOCKS_PER_SEC;
  EXPECT_FALSE(ph.vessel_tree.empty());
  EXPECT_LT(cpu_s, 3.0);
}

// Version 2 draws the same layout from narrower ranges (docs/data.md "Anatomy models"): for the same seed its lungs
// are smaller than version 1's and its vessel ends thinner (0.30 vs 0.38 mm, unless the radius is given), and the
// version is recorded in case.json's meta. Catches the version switch not reaching the layout or the vessels.
TEST(ChestAnatomy, Version2HasSmallerLungsAndThinnerVesselEnds) {
  auto lung_voxels = [](const data::Phantom& ph) {
    std::int64_t n = 0;
    for (const auto l : ph.labels.values())  // vessels are painted inside the lungs
      n += l == data::kLabelRightLung || l == data::kLabelLeftLung || l == data::kLabelVessel;
    return n;
  };
  for (std::uint64_t seed : {2, 4}) {
    data::PhantomSpec v1 = chest_spec(seed), v2 = chest_spec(seed);
    v1.chest_version = 1;
    v2.chest_version = 2;
    const auto a = data::generate_phantom(v1), b = data::generate_phantom(v2);
    EXPECT_LT(lung_voxels(b), lung_voxels(a)) << "seed " << seed;
    EXPECT_EQ(a.ct.meta.value("chest_version", 0), 1);
    EXPECT_EQ(b.ct.meta.value("chest_version", 0), 2);
    EXPECT_DOUBLE_EQ(a.ct.meta.value("vessel_terminal_radius_mm", 0.0), 0.38);
    EXPECT_DOUBLE_EQ(b.ct.meta.value("vessel_terminal_radius_mm", 0.0), 0.30);
    double thinnest = 1e9;
    for (const auto& n : b.vessel_tree) thinnest = std::min(thinnest, n.radius_mm);
    EXPECT_NEAR(thinnest, 0.30, 1e-9) << "seed " << seed;
  }
  EXPECT_EQ(data::PhantomSpec{}.chest_version, 2);
  data::PhantomSpec given = chest_spec(2);
  given.vessel_terminal_radius_mm = 0.5;
  EXPECT_DOUBLE_EQ(given.terminal_radius_mm(), 0.5);
}

// Catches a misspelt model silently falling back to `simple`, a terminal radius outside 0.1..1.5 mm and a chest
// version that does not exist.
TEST(ChestAnatomy, ConfigKeysAreChecked) {
  const auto cfg = core::Config::from_yaml("anatomy: chest\nvessel_terminal_radius_mm: 0.4\n", "a.yaml");
  const auto s = data::phantom_spec_from_config(cfg);
  EXPECT_EQ(s.anatomy, data::PhantomAnatomy::kChest);
  EXPECT_DOUBLE_EQ(s.vessel_terminal_radius_mm, 0.4);
  EXPECT_THROW(data::phantom_spec_from_config(core::Config::from_yaml("anatomy: chset\n", "b.yaml")),
               core::ConfigError);
  EXPECT_THROW(data::phantom_spec_from_config(core::Config::from_yaml("vessel_terminal_radius_mm: 3\n", "c.yaml")),
               core::ConfigError);
  EXPECT_EQ(data::phantom_spec_from_config(core::Config::from_yaml("chest_version: 1\n", "v.yaml")).chest_version, 1);
  for (const char* bad : {"chest_version: 3\n", "chest_version: 0\n"})
    EXPECT_THROW(data::phantom_spec_from_config(core::Config::from_yaml(bad, "v.yaml")), core::ConfigError) << bad;
  const auto contrast = data::phantom_spec_from_config(
      core::Config::from_yaml("contrast_probability: 1\ndense_vein_probability: 0.25\n", "d.yaml"));
  EXPECT_DOUBLE_EQ(contrast.contrast_probability, 1);
  EXPECT_DOUBLE_EQ(contrast.dense_vein_probability, 0.25);
  for (const char* bad :
       {"contrast_probability: 1.5\n", "dense_vein_probability: -0.1\n", "contrast_probability: .nan\n"})
    EXPECT_THROW(data::phantom_spec_from_config(core::Config::from_yaml(bad, "e.yaml")), core::ConfigError) << bad;
}
