#pragma once
// The phantom setup the data, drr and detect3d tests share: a coarse grid, a number of nodules in a size range,
// everything else the generator's defaults (docs/data.md). Header-only: only tests that link data include it.
#include <cstdint>

#include "xraylift/data/phantom.hpp"

namespace xraylift::testing {

inline data::PhantomSpec phantom_spec(std::uint64_t seed, const Eigen::Vector3i& dims,
                                      const Eigen::Vector3d& spacing_mm, int nodules, double min_diameter_mm,
                                      double max_diameter_mm, bool vessels = true) {
  data::PhantomSpec spec;
  spec.seed = seed;
  spec.dims = dims;
  spec.spacing_mm = spacing_mm;
  spec.nodules = nodules;
  spec.nodule_min_diameter_mm = min_diameter_mm;
  spec.nodule_max_diameter_mm = max_diameter_mm;
  spec.vessels = vessels;
  return spec;
}

inline data::Phantom make_phantom(std::uint64_t seed, const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing_mm,
                                  int nodules, double min_diameter_mm, double max_diameter_mm, bool vessels = true) {
  return data::generate_phantom(
      phantom_spec(seed, dims, spacing_mm, nodules, min_diameter_mm, max_diameter_mm, vessels));
}

}  // namespace xraylift::testing
