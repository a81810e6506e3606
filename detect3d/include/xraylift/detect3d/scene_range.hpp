#pragma once
// The box of world space in which reference points live, in millimetres. The seed normalized reference points
// with a nuScenes range in metres while its data was in mm: every point was clamped and gave no gradient.
// A SceneRange therefore refuses extents that look like metres.
#include <Eigen/Core>

#include "xraylift/core/config.hpp"

namespace xraylift::detect3d {

struct SceneRange {
  Eigen::Vector3d min_mm{-200, -200, -200};
  Eigen::Vector3d max_mm{200, 200, 200};

  // Checks finiteness, min < max, and a plausible chest-scale extent (50 .. 5000 mm per axis).
  void validate(const std::string& where) const;
  // Maps world mm to [0, 1]^3 (unclamped: callers see when a point leaves the range).
  Eigen::Vector3d normalize(const Eigen::Vector3d& p_mm) const;
  Eigen::Vector3d denormalize(const Eigen::Vector3d& p_unit) const;
  bool contains(const Eigen::Vector3d& p_mm) const;

  // Reads `min_mm` / `max_mm` lists of 3 numbers from a config section (the shared `detect3d.scene`); every mistake
  // (unknown key, wrong length, metre scale, min >= max) is a ConfigError naming the key and its file.
  static SceneRange from_config(const core::Config& section);

 private:
  void check_keys(const core::Config& section) const;
};

}  // namespace xraylift::detect3d
