#pragma once
// The lung mask is the data module's (data/lung_segmentation.hpp: the anatomy statistics use it too); viz builds its
// lung model on it and keeps these names for its callers.
#include "xraylift/data/lung_segmentation.hpp"

namespace xraylift::viz {

using data::kBackground;
using data::kLeftLung;
using data::kRightLung;
using data::label_volume_ml;
using data::LungLabel;
using data::LungSegmentation;
using data::LungSegmentationOptions;
using data::segment_lungs;

}  // namespace xraylift::viz
