#pragma once
// A model's 3D evidence in the scene (docs/viz.md "Evidence"): a probability volume in the world frame (the
// fusion detector's sigmoid heatmap, which `xraylift predict --heatmap` writes as an NRRD of int16 in units of
// 1/10000: detect3d/fusion/model.hpp probability_volume_i16) shown as translucent spheres at its peaks, coloured
// and sized by the evidence, optionally with its iso-surface. Every node carries its values (glTF node extras).
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/volume.hpp"
#include "xraylift/viz/scene.hpp"

namespace xraylift::viz {

struct EvidenceOptions {
  double threshold = 0.1;         // peaks below this probability are not added (the viewer's slider hides more)
  int max_peaks = 20;             // the strongest ones
  double min_separation_mm = 10;  // a peak closer than this to a stronger one is dropped
  double iso = 0;                 // > 0: also the iso-surface at this probability, one translucent node
  double min_diameter_mm = 4, max_diameter_mm = 30;
  void validate() const;  // ConfigError naming the field
};

struct EvidencePeak {
  Eigen::Vector3d centre;  // world mm: probability-weighted centroid of the peak's half-maximum region
  Eigen::Vector3i voxel;   // the maximum's voxel index
  double probability = 0;  // the maximum's value
  double diameter_mm = 0;  // equivalent-sphere diameter of that region (26-connected voxels >= half the maximum)
};

// An evidence NRRD: integer voxels in units of 1/10000 (0 .. 10000), or float/double probabilities (0 .. 1).
// InputError naming the file, the voxel and its value when one is outside that range (e.g. a CT given by mistake).
core::VolumeF read_evidence_nrrd(const std::filesystem::path& file);
// Local maxima (>= their 26 neighbours) at or above the threshold, strongest first, separated, at most max_peaks.
std::vector<EvidencePeak> evidence_peaks(const core::VolumeF& probability, const EvidenceOptions& options = {});
// The colour of a probability: blue (0) -> cyan (0.5) -> near white (1); distinct from truth green, prediction
// red, attention amber and the lung pink.
Eigen::Vector3f evidence_colour(double probability);
// Adds evidence_<n> spheres (and evidence_iso): kind kEvidence, translucent, opacity 0.25 + 0.5 p; info: id,
// source "evidence", score (= probability), probability, center_mm, diameter_mm, voxel, threshold, file.
// Returns the number of peaks added.
std::size_t add_evidence(Scene& scene, const core::VolumeF& probability, const EvidenceOptions& options = {},
                         const std::string& file = "");

}  // namespace xraylift::viz
