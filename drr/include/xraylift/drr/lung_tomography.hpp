#pragma once
// The lungs from their path lengths per view (docs/drr.md "Lungs from their path lengths"): a visual hull over-fills
// what every view sees only edge-on (the mediastinal recesses, the costophrenic angles), because a silhouette says
// where lung is along a ray, not how much. A view says how much: the lung path length l per pixel (mm; estimated
// from the line integrals, lung_path_estimate, or a CT's projected_lung_paths). The ten views are then a sparse
// tomographic acquisition of the lungs' occupancy x in [0, 1], solved inside the hull (the support) by SIRT with a
// voxel-driven back-projection: x_j <- clip(x_j + relaxation * mean over the views that see voxel j of
// (l - A x) / R at the pixel j projects to, 0, 1), A x the Siddon path through x (render_attenuation), R the path
// through the support; the lungs are x >= threshold, labelled by the support's side, the largest component per side.
#include <vector>

#include "xraylift/core/camera.hpp"
#include "xraylift/data/lung_segmentation.hpp"
#include "xraylift/drr/visual_hull.hpp"

namespace xraylift::drr {

struct LungTomographyOptions {
  int iterations = 20;
  double relaxation = 1.0;
  double threshold = 0.35;    // measured: 0.3 joins spurious blobs on LIDC-IDRI-0001, 0.5 loses 10 % (docs/viz.md)
  double min_support_mm = 3;  // a ray through less of the support than this corrects nothing
  // the deficit per mm of lung along a ray: lung (about -850 HU) lacks 85 % of water's attenuation
  double lung_deficit_per_mm = 0.85;
  int threads = 0;
  void validate() const;  // ConfigError naming the field
};

struct LungTomography {
  data::LungSegmentation lungs;
  std::vector<double> residual_mm;  // per iteration: mean |l - A x| over the support's rays
  double seconds = 0;
};

// Per view the lung path estimated from the rule's inputs: the deficit T - L / mu_water divided by
// lung_deficit_per_mm inside the view's lung field (0 outside, and >= 0).
std::vector<std::vector<float>> lung_path_estimate(const ViewsLungs& views, const LungTomographyOptions& options = {});

// InputError for paths that do not match the cameras, an empty support.
LungTomography reconstruct_lungs(const std::vector<core::Camera>& cameras,
                                 const std::vector<std::vector<float>>& lung_path_mm,
                                 const data::LungSegmentation& support, const LungTomographyOptions& options = {});

}  // namespace xraylift::drr
