// `xraylift train --config configs/detect2d/tiny.yaml`: trains a model with the generic trainer (train/).
// The config's `task` picks the body: detect2d (Faster R-CNN on rendered views, detect2d::train_detector) or
// detect3d (the configured 3D method with its 2D detector, one case of ten views per step,
// detect3d::train_method). Outputs in --out: checkpoint.safetensors (exact resume: run the same command again),
// model.safetensors (the weights by name; detect3d's with the method and the rig it was trained on), metrics.jsonl,
// loss.png, config.yaml. Data parallel: start one such process per rank with the torchrun variables (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); rank 0 writes the outputs (docs/ARCHITECTURE.md).
#include "../command.hpp"
#include "xraylift/detect2d/training.hpp"
#include "xraylift/detect3d/job.hpp"
#include "xraylift/train/trainer.hpp"

using namespace xraylift;

// Named, not anonymous: the torch commands are compiled as one unity file (docs/BUILDING.md "Build time").
namespace train_command {

struct Options {
  std::string out = "train-out";
  std::vector<std::string> data;
  std::string weights;
  std::unique_ptr<tools::ConfigOptions> config;
};

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("-o,--out", opt->out, "Output folder (checkpoint, weights, metrics, plot)")->capture_default_str();
  app.add_option("-d,--data", opt->data,
                 "View-set folders or infos.json files (DRR outputs); default: the config's data.synthetic set");
  app.add_option("--weights", opt->weights,
                 "Initial weights by parameter name (.safetensors or a torch.save state dict)");
  opt->config = std::make_unique<tools::ConfigOptions>(app, "", true);
  return [opt] {
    const core::Config cfg = opt->config->load();
    train::RunRequest request;
    request.out = opt->out;
    request.data.assign(opt->data.begin(), opt->data.end());
    request.initial_weights = opt->weights;
    // A second Ctrl-C during a checkpoint write leaves its temporary behind (docs/RELIABILITY.md).
    tools::remove_stale_temporaries({(request.out / train::kCheckpointFile).string()}, "train");
    const std::string task = cfg.get<std::string>("task", "detect2d");
    if (task == "detect3d") return detect3d::train_method(cfg, request);
    if (task == "detect2d") return detect2d::train_detector(cfg, request);
    throw core::ConfigError(
        core::cat("task must be detect2d or detect3d, got '", task, "' (", cfg.origin("task"), ")"));
  };
}

}  // namespace train_command

XL_REGISTER_COMMAND("train",
                    "Train a model (detect2d, or a detect3d method with its 2D detector) from a config, with "
                    "exact resume",
                    train_command::setup);
