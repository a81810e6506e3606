#pragma once
// Two 3D masks (world frame, any grids) compared the way a lung model is measured (docs/viz.md "Lung model from the
// views"): both resampled (nearest voxel) onto one grid of `grid_mm` over the union of their boxes, then
//   Dice = 2 |A and B| / (|A| + |B|); volumes in mL (of the resampled masks); surface distance: per boundary voxel
//   of one mask (inside, with a 6-neighbour outside) the Euclidean distance to the nearest boundary voxel of the
//   other (exact squared distance transform, Felzenszwalb & Huttenlocher 2012), both directions pooled: mean and
//   95th percentile in mm. `extra_ml`: volume of B outside A (what a visual hull adds), `missed_ml`: A outside B.
#include "xraylift/core/volume.hpp"

namespace xraylift::eval {

struct MaskComparison {
  double dice = 0;
  double truth_ml = 0, other_ml = 0;
  double volume_error_ml = 0;   // other - truth
  double volume_error_pct = 0;  // 100 (other - truth) / truth
  double extra_ml = 0, missed_ml = 0;
  double surface_mean_mm = 0, surface_p95_mm = 0;
};

// Non-zero voxels are inside. InputError for an empty volume, a non-axis-aligned one, or a common grid over
// max_voxels.
MaskComparison compare_masks(const core::VolumeU8& truth, const core::VolumeU8& other, double grid_mm = 2.0,
                             std::int64_t max_voxels = 64'000'000);

}  // namespace xraylift::eval
