#pragma once
// Synthetic nodules blended into the lung parenchyma of a real CT: a realistic test case with known truth.
#include <cstdint>
#include <vector>

#include "xraylift/data/case.hpp"
#include "xraylift/data/phantom.hpp"

namespace xraylift::data {

struct InsertSpec {
  std::uint64_t seed = 0;
  int nodules = 3;
  double min_diameter_mm = 5.0;
  double max_diameter_mm = 20.0;
  double noise_hu = 12.0;  // texture added inside the nodule, close to the scan's own noise
  void validate() const;   // throws ConfigError naming the field
};

// Lung parenchyma mask without learning: HU < -400 not connected to the slice border (outside air), then only
// voxels in [-950, -500] HU (parenchyma, not airways or vessels), eroded by one voxel in-plane.
core::VolumeU8 parenchyma_mask(const core::VolumeI16& hu);

struct InsertResult {
  Case ct;                              // the input case with nodules blended in; nodules = input's + inserted
  std::vector<PhantomNodule> inserted;  // truth of the inserted ones (truth.box = voxels where the nodule dominates)
};

// Places each nodule fully inside the parenchyma (centre and 1.3 r around it), away from the others, and blends
// it: HU = (1 - a) HU + a target with a >= 0.5 inside the shape and a soft edge outside. Throws InputError when
// the case has no room (no lungs found).
InsertResult insert_nodules(const Case& input, const InsertSpec& spec);

}  // namespace xraylift::data
