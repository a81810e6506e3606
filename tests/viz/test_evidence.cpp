// Evidence volumes in the scene (viz/evidence.hpp) against synthetic volumes with known peaks.
#include <gtest/gtest.h>

#include "scene_fixture.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/viz/evidence.hpp"
#include "xraylift/viz/export.hpp"

using namespace xraylift;
using viz::testing::Blob;

// Catches: peaks in index instead of world coordinates, a centroid off by half a voxel, a wrong order, a peak
// below the threshold shown, and a diameter that is not the half-maximum width (FWHM = 2.355 sigma).
TEST(Evidence, PeaksAtKnownWorldCentresStrongestFirstSizedByHalfMaximum) {
  // Centres on voxel centres (the 4 mm grid's centres are 2 mod 4), so the maxima are the peaks exactly.
  const std::vector<Blob> blobs = {{{-42, 10, -10}, 0.5, 6}, {{30, -22, 14}, 0.9, 8}, {{2, 38, 30}, 0.05, 6}};
  const auto v = viz::testing::evidence_volume(blobs);
  viz::EvidenceOptions o;
  o.threshold = 0.1;
  const auto peaks = viz::evidence_peaks(v, o);
  ASSERT_EQ(peaks.size(), 2u);
  EXPECT_NEAR(peaks[0].probability, 0.9, 1e-6);
  EXPECT_NEAR(peaks[1].probability, 0.5, 1e-6);
  EXPECT_LT((peaks[0].centre - blobs[1].centre).norm(), 0.5);
  EXPECT_LT((peaks[1].centre - blobs[0].centre).norm(), 0.5);
  EXPECT_NEAR(peaks[0].diameter_mm, 2.355 * 8, 0.2 * 2.355 * 8);
  EXPECT_NEAR(peaks[1].diameter_mm, 2.355 * 6, 0.2 * 2.355 * 6);
}

// Catches: no separation (a plateau or a shoulder gives several spheres) and max_peaks not applied.
TEST(Evidence, CloseMaximaMergeAndMaxPeaksKeepsTheStrongest) {
  const std::vector<Blob> blobs = {{{2, 2, 2}, 0.8, 4}, {{10, 2, 2}, 0.7, 4}, {{-58, 2, 2}, 0.3, 4}};
  const auto v = viz::testing::evidence_volume(blobs);
  viz::EvidenceOptions o;
  o.min_separation_mm = 12;
  EXPECT_EQ(viz::evidence_peaks(v, o).size(), 2u);
  o.max_peaks = 1;
  const auto one = viz::evidence_peaks(v, o);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_NEAR(one[0].probability, 0.8, 1e-6);
}

// Catches: lost units (1/10000) or geometry in the NRRD round trip, and a CT accepted as evidence.
TEST(Evidence, NrrdInTenThousandthsRoundTripsAndACtIsRejected) {
  const auto dir = xraylift::testing::scratch_dir("viz_evidence_nrrd");
  const auto v = viz::testing::evidence_volume(viz::testing::fixture_blobs(), {30, 25, 20}, 8);
  core::VolumeI16 i16(v.geometry());
  for (std::size_t n = 0; n < v.values().size(); ++n) i16.values()[n] = std::int16_t(std::lround(v.values()[n] * 1e4));
  data::write_nrrd(dir / "evidence.nrrd", i16);
  const auto back = viz::read_evidence_nrrd(dir / "evidence.nrrd");
  ASSERT_EQ(back.dims(), v.dims());
  EXPECT_TRUE(back.geometry().origin.isApprox(v.geometry().origin, 1e-9));
  for (std::size_t n = 0; n < v.values().size(); n += 7) EXPECT_NEAR(back.values()[n], v.values()[n], 1e-4);
  i16.values()[5] = -1000;  // HU of air
  data::write_nrrd(dir / "ct.nrrd", i16);
  try {
    viz::read_evidence_nrrd(dir / "ct.nrrd");
    FAIL() << "a CT-like volume was accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("voxel (5, 0, 0) is -1000"), std::string::npos) << e.what();
  }
  viz::EvidenceOptions bad;
  bad.threshold = 0;
  EXPECT_THROW(bad.validate(), core::ConfigError);
}

// Catches: evidence nodes indistinguishable from truth / prediction nodes (kind, colour), and values missing
// from the glTF node extras after a round trip.
TEST(Evidence, SceneNodesCarryTheirValuesIntoGlbExtras) {
  const viz::Scene& scene = viz::testing::fixture_scene_with_evidence();
  const viz::SceneNode* strong = scene.find("evidence_1");
  const viz::SceneNode* weak = scene.find("evidence_2");
  ASSERT_TRUE(strong && weak);
  EXPECT_EQ(strong->kind, viz::NodeKind::kEvidence);
  EXPECT_TRUE(strong->translucent);
  EXPECT_GT(strong->info["score"].get<double>(), weak->info["score"].get<double>());
  const viz::SceneNode* truth = scene.find("nodule_t1_sphere");
  const viz::SceneNode* pred = scene.find("nodule_p1_sphere");
  ASSERT_TRUE(truth && pred);
  for (const auto* n : {strong, weak}) {  // colour: blue channel dominant, unlike green truth and red predictions
    EXPECT_GT(n->rgba[2], n->rgba[0] + 0.1f) << n->name;
    EXPECT_GT((n->rgba.head<3>() - truth->rgba.head<3>()).norm(), 0.5f) << n->name;
    EXPECT_GT((n->rgba.head<3>() - pred->rgba.head<3>()).norm(), 0.5f) << n->name;
  }
  const auto dir = xraylift::testing::scratch_dir("viz_evidence_glb");
  viz::write_glb(dir / "scene.glb", scene);
  const viz::Scene back = viz::read_glb_scene(dir / "scene.glb");
  const viz::SceneNode* b = back.find("evidence_1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, viz::NodeKind::kEvidence);
  EXPECT_NEAR(b->info["probability"].get<double>(), 0.9, 1e-6);
  EXPECT_EQ(b->info["center_mm"].size(), 3u);
  EXPECT_NEAR(b->info["center_mm"][0].get<double>(), -58, 0.5);
  EXPECT_EQ(b->info["file"].get<std::string>(), "fixture");
}

// Catches: an iso-surface at the wrong level (its enclosed volume must match the analytic ball where the
// Gaussian exceeds the level: r = sigma sqrt(2 ln(peak / iso))).
TEST(Evidence, IsoSurfaceEnclosesTheAnalyticBall) {
  const std::vector<Blob> blobs = {{{0, 0, 0}, 0.9, 10}};
  viz::Scene scene;
  viz::EvidenceOptions o;
  o.iso = 0.3;
  viz::add_evidence(scene, viz::testing::evidence_volume(blobs, {40, 40, 40}, 2), o);
  const viz::SceneNode* iso = scene.find("evidence_iso");
  ASSERT_TRUE(iso);
  const double r = 10 * std::sqrt(2 * std::log(0.9 / 0.3));
  EXPECT_NEAR(viz::signed_volume(iso->mesh), 4.0 / 3.0 * M_PI * r * r * r, 0.05 * 4.0 / 3.0 * M_PI * r * r * r);
}

// A float NRRD holds probabilities as they are (catches a float volume truncated to int16 zeros or scaled by
// 1/10000). Written by hand: the data module writes int16/uint8 only.
TEST(Evidence, FloatNrrdIsReadUnscaled) {
  const auto dir = xraylift::testing::scratch_dir("viz_evidence_float");
  const float values[8] = {0, 0.25f, 0.5f, 0.75f, 1, 0.9f, 0.1f, 0};
  std::string file =
      "NRRD0004\ntype: float\ndimension: 3\nspace: left-posterior-superior\nsizes: 2 2 2\n"
      "space directions: (4,0,0) (0,4,0) (0,0,4)\nendian: little\nencoding: raw\nspace origin: (-2,-2,-2)\n\n";
  file.append(reinterpret_cast<const char*>(values), sizeof(values));
  core::write_file_atomic(dir / "p.nrrd", file);
  const auto v = viz::read_evidence_nrrd(dir / "p.nrrd");
  ASSERT_EQ(v.values().size(), 8u);
  for (int n = 0; n < 8; ++n) EXPECT_FLOAT_EQ(v.values()[std::size_t(n)], values[n]);
  EXPECT_NEAR(v.index_to_world({1, 1, 1}).x(), 2, 1e-9);
  const float over[8] = {0, 0, 0, 2, 0, 0, 0, 0};
  file.replace(file.size() - sizeof(values), sizeof(values), reinterpret_cast<const char*>(over), sizeof(over));
  core::write_file_atomic(dir / "over.nrrd", file);
  EXPECT_THROW(viz::read_evidence_nrrd(dir / "over.nrrd"), core::InputError);
}
