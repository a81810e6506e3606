#pragma once
// The generic trainer: a model (any torch::nn::Module) and a loss function that maps a Batch to named loss
// tensors ("loss" is the total that is back-propagated). AdamW with parameter groups by name prefix, linear warmup
// then cosine decay, gradient clipping, optional bf16 autocast on CUDA, checkpoints with exact resume
// (model, optimizer, step, RNG in one safetensors file: train/checkpoint.hpp), metrics as JSONL and a PNG loss
// plot, and a progress bar.
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/train/data.hpp"
#include "xraylift/train/distributed.hpp"

namespace xraylift::train {

// The checkpoint in TrainerOptions::out_dir (train/checkpoint.hpp).
inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";

struct ParamGroupRule {
  std::string prefix;    // parameter names starting with this
  double lr_mult = 1.0;  // e.g. backbone.body. -> 0.25
};

struct Schedule {
  double lr = 2e-4;
  std::int64_t total_steps = 1000;
  std::int64_t warmup_steps = 500;
  double warmup_start = 1.0 / 3.0;         // factor at step 0
  double final_ratio = 1e-3;               // cosine ends at lr * final_ratio
  double factor(std::int64_t step) const;  // lr multiplier at a step
};

struct TrainerOptions {
  std::filesystem::path out_dir = "train-out";
  Schedule schedule;
  double weight_decay = 0.01;
  double beta1 = 0.9, beta2 = 0.999;
  double clip_norm = 35.0;  // <= 0 disables clipping
  std::vector<ParamGroupRule> param_groups;
  std::int64_t stop_after = -1;       // stop at this step (< total_steps) to simulate an interruption
  std::int64_t checkpoint_every = 0;  // 0: only at the end
  std::int64_t log_every = 10;
  bool resume = true;  // continue from out_dir/checkpoint.safetensors when present
  std::uint64_t seed = 0;
  std::string device = "cpu";  // cpu | cuda | cuda:N
  bool bf16_autocast = true;   // on CUDA only
  LoaderOptions loader;
  PhotometricAugment augment;
  bool show_progress = true;
  // Data parallel: null = one process. With a communicator the loader takes this rank's slice of every global
  // batch, gradients are averaged over the ranks after backward (bucketed), rank 0 alone writes checkpoints,
  // metrics and the plot, and a failing rank stops the others naming its error.
  DistOptions distributed;  // train.distributed {backend, timeout_s, bucket_mb}
  std::shared_ptr<Communicator> comm;
  // Written into checkpoints; resuming from a checkpoint whose fingerprint differs is refused (empty: no check).
  std::string config_fingerprint;

  // Reads a `train` section: lr, steps, warmup_steps, warmup_start, final_ratio, weight_decay, clip_norm,
  // param_groups [{prefix, lr_mult}], checkpoint_every, log_every, resume, seed, device, bf16, batch_size,
  // workers, prefetch, augment {...}, distributed {...}.
  static TrainerOptions from_config(const core::Config& section);
};

using LossFunction = std::function<std::map<std::string, torch::Tensor>(const Batch& batch)>;

struct TrainResult {
  std::int64_t start_step = 0, end_step = 0;
  std::map<std::string, double> first_losses, last_losses;  // means over the first / last log window
  std::filesystem::path checkpoint, metrics, plot;
};

class Trainer {
 public:
  Trainer(TrainerOptions options, std::shared_ptr<torch::nn::Module> model, LossFunction loss);
  TrainResult fit(const Dataset& dataset);

  // write_checkpoint / read_checkpoint (train/checkpoint.hpp) of this trainer's model, optimizer and step.
  void save_checkpoint(const std::filesystem::path& path) const;
  void load_checkpoint(const std::filesystem::path& path);
  std::int64_t step() const { return step_; }
  torch::optim::AdamW& optimizer() { return *optimizer_; }

 private:
  void set_learning_rates();
  TrainResult fit_impl(const Dataset& dataset);
  TrainerOptions options_;
  std::shared_ptr<torch::nn::Module> model_;
  LossFunction loss_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::vector<double> group_mults_;
  std::int64_t step_ = 0;
};

// Writes a PNG line plot of the "loss" series of a metrics JSONL file (one curve per loss key). Returns false when
// the file holds no points.
// A fingerprint of the settings that define a training run (everything but the keys that may change on resume:
// train.stop_after, resume, workers, prefetch, log_every, checkpoint_every, device, bf16, distributed, progress):
// 16 hex digits of FNV-1a over the canonical YAML.
std::string config_fingerprint(const core::Config& config);

bool plot_losses(const std::filesystem::path& metrics_jsonl, const std::filesystem::path& png);

}  // namespace xraylift::train
