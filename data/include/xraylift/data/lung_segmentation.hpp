#pragma once
// Lung mask from a CT without deep learning (docs/viz.md "Lung model from a CT"). It lives in data so that the
// anatomy statistics (data/anatomy_stats.hpp) can use it; viz builds its lung model on it.
//   1. air = HU < air_threshold_hu;
//   2. air connected to the border of its axial slice is outside the body (per slice, so lungs touching the top
//      or bottom slice survive); the rest is air inside the body;
//   3. airways trimmed: from a trachea seed (a small air region near the midline in the most superior slices),
//      a region grown over HU < airway_hu, dilated by one voxel, is removed (stricter thresholds are tried when
//      the growth leaks into the lungs);
//   4. 3D connected components (6-connected); the two largest big enough are the lungs, or one (the lungs
//      touching) split per axial slice at its thinnest column within 40 mm of the body midline;
//   5. right/left by the side of the body midline: the patient's right is -x in LPS;
//   6. holes closed per axial slice (vessels and nodules inside a lung become lung).
#include <string>

#include "xraylift/core/volume.hpp"

namespace xraylift::data {

enum LungLabel : std::uint8_t { kBackground = 0, kRightLung = 1, kLeftLung = 2 };

struct LungSegmentationOptions {
  double air_threshold_hu = -400;
  double airway_hu = -950;
  double min_lung_ml = 50;              // components smaller than this are not lungs
  double max_airway_ml = 250;           // a grown airway larger than this leaked into a lung
  double single_component_ratio = 0.1;  // second component below this fraction of the first: lungs touch
};

struct LungSegmentation {
  core::VolumeU8 labels;  // LungLabel per voxel
  core::VolumeU8 body;    // 1 inside the body (not border-connected air)
  double right_ml = 0, left_ml = 0;
  double airway_ml = 0;  // removed as airway
  bool split_at_midline = false;
  double total_ml() const { return right_ml + left_ml; }
};

LungSegmentation segment_lungs(const core::VolumeI16& hu, const LungSegmentationOptions& options = {});

// Voxel volume in mL of a label (mm^3 / 1000).
double label_volume_ml(const core::VolumeU8& labels, std::uint8_t label);

}  // namespace xraylift::data
