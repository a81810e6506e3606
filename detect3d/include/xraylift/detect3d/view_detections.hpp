#pragma once
// What every 3D predictor consumes: one entry per view of a case, the view's camera and its 2D detections
// (core::Box2D continuous pixels, scores in [0, 1]). Predictors return core::BoxRecord predictions in world mm
// (the xraylift.boxes3d layout). Torch-free, so the geometry-only predictor (triangulate) and its tests need
// no libtorch.
#include <string>
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/box_set.hpp"
#include "xraylift/core/camera.hpp"

namespace xraylift::detect3d {

struct ViewDetections {
  core::Camera camera;
  std::vector<core::Box2D> boxes;
  std::vector<double> scores;  // same length as boxes

  // Throws InputError naming `where` when sizes differ, a box is empty/non-finite or a score is outside [0, 1].
  void validate(const std::string& where) const;
};

}  // namespace xraylift::detect3d
