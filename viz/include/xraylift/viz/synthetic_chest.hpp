#pragma once
// A small analytic chest CT (HU) for tests and offline demos of the viz module: an elliptic body, two ellipsoid
// lungs (-850 HU with vessels), trachea and main bronchi (-1000 HU), a spine. Not the phantom generator of the
// data module (that one is realistic); this one has exactly known lung volumes.
#include "xraylift/core/volume.hpp"

namespace xraylift::viz {

struct SyntheticChest {
  core::VolumeI16 hu;
  Eigen::Vector3d right_centre, left_centre, lung_semi_axes;  // world mm
  double lung_ellipsoid_ml() const;                           // analytic volume of one lung ellipsoid
};

// spacing in mm; the volume is 320 x 240 x 300 mm, centred (world frame of core/volume.hpp).
SyntheticChest make_synthetic_chest(const Eigen::Vector3d& spacing_mm = Eigen::Vector3d(2, 2, 2.5));

}  // namespace xraylift::viz
