#pragma once
// `task: detect2d` of `xraylift train`: the Faster R-CNN trained on single views, from rendered view sets (--data),
// data.on_the_fly, or the config's data.synthetic set; model.safetensors (weights by name) next to the trainer's
// outputs.
#include "xraylift/core/config.hpp"
#include "xraylift/train/run.hpp"

namespace xraylift::detect2d {

// Returns the exit code (0). Throws ConfigError / InputError for bad config or data.
int train_detector(const core::Config& config, const train::RunRequest& request);

}  // namespace xraylift::detect2d
