#pragma once
// The dense-material rule (docs/detect3d.md "Dense-material filter"): from the views alone, the attenuation excess
// of the object at a 3D prediction's position, in water-equivalent HU, and the rejection of predictions denser than
// any non-calcified nodule (contrast-filled vessels: iodine at 2000-3000 HU). Never reads a CT.
//
// Per view, at the prediction's projected centre (the line integral's maximum within search_mm of it):
//   - a profile through that peak along each of `directions` directions (bilinear samples every 0.5 px, each the
//     mean of 3 samples across the direction against the CT's voxel noise), walked out on both sides to where it
//     stops falling (a rise beyond the noise, or flat past the object's edge; within max_radius_mm), with a straight
//     baseline between the two ends;
//   - h = the peak above the baseline, A = the area of the profile above it (mm);
//   - mu = pi h^2 / (4 A) (1/mm): exact for the chord profile 2 mu sqrt(R^2 - x^2) of a sphere, or of a cylinder
//     crossed perpendicularly, whatever R; a profile along a vessel is wider, so it reads lower;
//   - the view's estimate is the largest over directions (the one across a vessel), in water-equivalent HU
//     1000 mu / mu_water (drr's convention mu = mu_water (1 + HU / 1000); with `bone: linear` renders dense
//     material reads higher still).
// The prediction's estimate is the smallest over the views that give one (structures overlapping in a view only add
// to its estimate), and it is rejected when at least min_views views give one and the estimate exceeds
// max_excess_hu. The estimate is an excess over the surroundings (a +50 HU nodule in -850 HU lung: ~900).
// Torch-free; ~1 ms per prediction on one core.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/camera.hpp"
#include "xraylift/core/config.hpp"
#include "xraylift/core/view_set.hpp"

namespace xraylift::drr {

struct DenseFilterOptions {
  // On by default: it removed no true positive on the LIDC insertions nor the held-out chest phantoms
  // (docs/BENCHMARKS.md "Dense-material filter").
  bool enabled = true;
  // The physical bound (water-equivalent HU above the surroundings): a solid nodule is at most ~+200 HU, so at most
  // ~1200 above air-filled lung; 1500 leaves 25 % for the estimator's error. Iodine-filled veins read 2000-3000.
  double max_excess_hu = 1500;
  int min_views = 3;                // views with an estimate needed to reject
  int directions = 8;               // profile directions over 180 deg
  double search_mm = 4.0;           // the peak is searched within this radius of the projected centre
  double max_radius_mm = 25.0;      // a profile side stops here when it finds no minimum
  double min_peak = 0.005;          // h below this (line-integral units) gives no estimate in that direction
  double mu_water_per_mm = 0.0192;  // the view set's render.mu_water_per_mm when it has one (dense_views)

  // Reads `detect3d.dense_filter` (keys named as above, but mu_water_per_mm, which comes from the views); unknown
  // keys and values out of range are ConfigErrors naming the key, its file, the value and the range.
  static DenseFilterOptions from_config(const core::Config& section);
  void validate(const std::string& where) const;  // ConfigError naming `where`, the field, value and range
};

// One view's float line integrals (H x W row-major, the .npy of the DRR stage) with its camera.
struct DenseView {
  core::Camera camera;
  std::vector<float> line_integral;
};

// The views of a view set (infos.json): cameras and their line-integral .npy files (InputError naming the file and
// field when one is missing or malformed). Sets `mu_water_per_mm` from render.mu_water_per_mm when the set has it.
std::vector<DenseView> dense_views(const std::filesystem::path& infos, double* mu_water_per_mm = nullptr);

struct DenseViewEstimate {
  std::string view;
  double excess_hu = 0;  // largest over directions
  double peak = 0;       // h of that direction (line-integral units)
  double width_mm = 0;   // equivalent chord 4 A / (pi h) of that direction (the diameter of a sphere)
};

struct DenseEstimate {
  std::optional<double> excess_hu;  // smallest over the views; none when no view gave one
  int views = 0;                    // views that gave one
  std::string min_view;             // the view of the smallest
  double width_mm = 0;              // that view's equivalent chord
  std::vector<DenseViewEstimate> per_view;
};

// The estimate at `centre` (world mm). InputError naming the view when its image does not match its camera's size
// or holds a non-finite value, and naming the field for a non-finite centre.
DenseEstimate estimate_dense_excess(const std::vector<DenseView>& views, const Eigen::Vector3d& centre,
                                    const DenseFilterOptions& options);

struct DenseFilterResult {
  std::vector<core::BoxRecord> kept, removed;
  std::vector<DenseEstimate> estimates;  // one per input box, in input order
  std::vector<bool> rejected;            // one per input box
};

// Splits `boxes` by the rule (every box kept when !options.enabled; estimates are still computed).
DenseFilterResult filter_dense(const std::vector<core::BoxRecord>& boxes, const std::vector<DenseView>& views,
                               const DenseFilterOptions& options);

}  // namespace xraylift::drr
