#pragma once
// What every training task does around its model (docs/ARCHITECTURE.md "Training at scale"): the output folder and
// config fingerprint, the ranks of a data-parallel run (torchrun-style variables), failure publishing so the other
// ranks stop naming the failed one, the config written next to the outputs, and the closing report. The task bodies
// (detect2d::train_detector, detect3d::train_method) build their data and model and call these; the `train` command
// only parses arguments.
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/train/trainer.hpp"

namespace xraylift::train {

// What the command line gives a training task.
struct RunRequest {
  std::filesystem::path out = "train-out";
  std::vector<std::filesystem::path> data;  // rendered view sets (infos.json files or folders); may be empty
  std::filesystem::path initial_weights;    // by parameter name; empty: none
};

// Once every key of `config` is read: refuses unknown keys, sets the output folder and the config fingerprint, and
// connects the ranks when the torchrun variables are set (a plain `cuda` device becomes cuda:LOCAL_RANK).
void prepare_run(TrainerOptions& trainer, const std::filesystem::path& out, const core::Config& config);

bool is_root(const TrainerOptions& trainer);

// Runs `body`; when it throws on one rank, the others learn it (and stop naming it) before this one rethrows.
template <typename F>
auto run_publishing_failures(const TrainerOptions& trainer, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    if (trainer.comm) trainer.comm->publish_failure(e.what());
    throw;
  }
}

// Rank 0 writes the effective config next to the outputs (config.yaml).
void write_run_config(const TrainerOptions& trainer, const std::filesystem::path& out, const core::Config& config);

// The closing log: first and last loss, the checkpoint, the weights (`weights_what` says what they hold), metrics
// and plot.
void log_run_outputs(const TrainResult& result, const std::filesystem::path& weights, const std::string& weights_what);

}  // namespace xraylift::train
