#pragma once
// The rig a model was trained on: what every trained 3D method records in its weights and checks before it runs,
// so that views of another rig fail clearly instead of producing boxes in the wrong place (docs/detect3d.md
// "Weights"). Torch-free: training and prediction of every method, and the commands, share it.
#include <Eigen/Core>
#include <string>
#include <vector>

#include "xraylift/core/camera.hpp"

namespace xraylift::core {

struct TrainedRig {
  std::vector<Eigen::Vector3d> sources;  // per view, world mm
  std::vector<Intrinsics> intrinsics;    // per view
  bool empty() const { return sources.empty(); }
};

TrainedRig trained_rig_of(const std::vector<Camera>& cameras);

// Throws InputError naming `origin` and the first view that differs: view count, image size, focal length
// (> 0.5 %), source position (> tolerance_mm). No-op when `rig` is empty.
// `reference` says what the rig is, for the message ("the weights were trained on", "the config's rig has").
void check_rig(const TrainedRig& rig, const std::vector<Camera>& cameras, const std::string& origin,
               double tolerance_mm = 1.0, const std::string& reference = "the weights were trained on");

// Checks that every case of a training set comes from one rig: each case's cameras against the first case's and,
// when `configured` is not empty, against the config's rig (`configured_origin` names where it was read).
// case_ids[i] names the cameras of case i in the message.
void check_training_rig(const std::vector<std::vector<Camera>>& case_cameras, const std::vector<std::string>& case_ids,
                        const TrainedRig& configured, const std::string& configured_origin);

}  // namespace xraylift::core
