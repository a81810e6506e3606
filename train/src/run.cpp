#include "xraylift/train/run.hpp"

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/train/distributed.hpp"

namespace xraylift::train {

void prepare_run(TrainerOptions& trainer, const std::filesystem::path& out, const core::Config& config) {
  config.check_no_unknown_keys();
  trainer.out_dir = out;
  trainer.config_fingerprint = config_fingerprint(config);
  const auto env = DistEnv::from_env();
  if (!env.enabled()) return;
  if (trainer.device == "cuda") trainer.device = core::cat("cuda:", env.local_rank);
  trainer.comm = std::make_shared<Communicator>(env, trainer.distributed, trainer.device);
}

bool is_root(const TrainerOptions& trainer) { return trainer.comm == nullptr || trainer.comm->is_root(); }

void write_run_config(const TrainerOptions& trainer, const std::filesystem::path& out, const core::Config& config) {
  if (is_root(trainer)) core::write_file_atomic(out / "config.yaml", config.dump());
}

void log_run_outputs(const TrainResult& result, const std::filesystem::path& weights, const std::string& weights_what) {
  if (!result.first_losses.empty())
    core::log::info("loss ", result.first_losses.at("loss"), " -> ", result.last_losses.at("loss"), " (steps ",
                    result.start_step, " -> ", result.end_step, ")");
  core::log::info("outputs:");
  core::log::info("  ", result.checkpoint.string(), "  checkpoint (resume: run the same command again)");
  core::log::info("  ", weights.string(), "  ", weights_what);
  core::log::info("  ", result.metrics.string(), ", ", result.plot.string(), "  metrics and loss plot");
}

}  // namespace xraylift::train
