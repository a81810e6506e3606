#pragma once
// Predictions inside the lungs (docs/detect3d.md "Lung filter"): a nodule lies in a lung, so a predicted
// box whose centre falls outside the lung mask (data/lung_segmentation.hpp: per-slice holes closed, so vessels and
// nodules inside a lung are lung) is a false positive and is removed.
#include <cstddef>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/volume.hpp"

namespace xraylift::data {

struct LungFilterResult {
  std::vector<core::BoxRecord> kept;     // in their original order
  std::vector<core::BoxRecord> removed;  // centre outside the lungs
};

// Keeps the boxes whose centre's nearest voxel of `lung_labels` (world frame, the CT's) is a lung label (non-zero),
// or, failing that, whose box holds the centre of a lung voxel: a juxta-pleural nodule's own voxels are soft tissue
// attached to the chest wall, not lung in the mask, so its centre lies outside the mask while its box reaches into
// the lung (with the centre alone, 1 of the 12 nodules of the gate's phantoms was removed; docs/detect3d.md). A
// centre outside the volume is outside the lungs. Throws InputError for an empty label volume.
// `margin_mm` grows the box for that test on every side (predict uses kLungFilterMarginMm): nodules abutting the
// mediastinum with a predicted box smaller than the nodule.
LungFilterResult keep_inside_lungs(const std::vector<core::BoxRecord>& boxes, const core::VolumeU8& lung_labels,
                                   double margin_mm = 0);
inline constexpr double kLungFilterMarginMm = 5.0;

}  // namespace xraylift::data
