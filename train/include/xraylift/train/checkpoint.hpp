#pragma once
// The trainer's checkpoint: one safetensors file (train/safetensors.hpp), data only, read without libtorch's
// archive loader (a TorchScript archive carries code that libtorch compiles at load; docs/RELIABILITY.md):
//   model.<name>                    every parameter and buffer of the model
//   optim.<param>.exp_avg           AdamW's first moment of a trainable parameter (by the parameter's name)
//   optim.<param>.exp_avg_sq        its second moment
//   optim.<param>.max_exp_avg_sq    the running maximum of the second moment, when its group uses amsgrad
//   optim.<param>.step              AdamW's step count for it (I64 scalar); a parameter that has not yet taken a
//                                   step has none of the optim.<param>.* entries
//   rng_cpu                         the CPU generator's state (U8)
//   __metadata__                    format (xraylift.checkpoint), format_version (1), step, signature (parameter
//                                   and buffer names and shapes), config_fingerprint, param_groups (their count)
#include <cstdint>
#include <filesystem>
#include <string>

namespace torch::nn {
class Module;
}
namespace torch::optim {
class AdamW;
}

namespace xraylift::train {

inline constexpr const char* kCheckpointFormat = "xraylift.checkpoint";
inline constexpr int kCheckpointFormatVersion = 1;

// Names and shapes of every parameter and buffer: two models with equal signatures can exchange checkpoints.
std::string model_signature(const torch::nn::Module& model);

// Writes the checkpoint atomically (a temporary in the same folder, then a rename).
void write_checkpoint(const std::filesystem::path& path, const torch::nn::Module& model,
                      const torch::optim::AdamW& optimizer, std::int64_t step, const std::string& config_fingerprint);

// Checks the whole file before it changes anything: the metadata (present, well-typed, this format and version,
// the model's signature, as many parameter groups), every tensor against the model and the optimizer (names,
// shapes, dtypes; no entry missing or unexpected) and the RNG state's size. core::InputError naming the file and
// the first mismatch; core::ConfigError when both fingerprints are set and differ (another config). Then restores
// the model's tensors, the optimizer's per-parameter state (on each parameter's device) and the CPU generator, and
// returns the step.
std::int64_t read_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                             torch::optim::AdamW& optimizer, const std::string& config_fingerprint);

}  // namespace xraylift::train
