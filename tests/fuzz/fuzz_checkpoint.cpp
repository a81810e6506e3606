// The trainer's checkpoint reader (train::read_checkpoint on a fuzzed checkpoint.safetensors) against a tiny model
// and its AdamW (two parameter groups, amsgrad in one): the step or core::InputError, whatever the bytes, and
// nothing restored unless the whole file matched. What it checks beyond the safetensors header (fuzz_safetensors):
// the metadata (present, integers, format, version, signature, fingerprint, group count), every tensor's name,
// shape and dtype against the model and the optimizer, the per-parameter step counts and the RNG state's fields.
// After a load that succeeded, one optimizer step and a random draw run on what was restored.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz_scratch.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/train/checkpoint.hpp"

namespace {

struct Target {
  torch::nn::Sequential model{torch::nn::Linear(2, 3), torch::nn::BatchNorm1d(3), torch::nn::Linear(3, 1)};
  std::unique_ptr<torch::optim::AdamW> optimizer;
  Target() {
    torch::manual_seed(0);
    std::vector<torch::Tensor> first, rest;
    for (const auto& p : model->named_parameters(true))
      (p.key().rfind("0.", 0) == 0 ? first : rest).push_back(p.value());
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(first,
                        std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-3).amsgrad(true)));
    groups.emplace_back(rest, std::make_unique<torch::optim::AdamWOptions>(1e-3));
    optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(1e-3));
  }
};

Target& target() {
  static Target t;
  return t;
}

}  // namespace

// FUZZ_WRITE_SEEDS=<folder>: writes the seeds (tests/fuzz/corpus/checkpoint): this target's checkpoint before its
// first step (no optimizer state) and after two steps, then runs as usual.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* folder = std::getenv("FUZZ_WRITE_SEEDS");
  if (folder == nullptr) return 0;
  auto& t = target();
  xraylift::train::write_checkpoint(std::filesystem::path(folder) / "before_first_step", *t.model, *t.optimizer, 0,
                                    "00aa");
  for (int i = 0; i < 2; ++i) {
    t.optimizer->zero_grad();
    t.model->forward(torch::rand({4, 2})).square().mean().backward();
    t.optimizer->step();
  }
  xraylift::train::write_checkpoint(std::filesystem::path(folder) / "after_two_steps", *t.model, *t.optimizer, 2,
                                    "00aa");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& target = ::target();
  static const auto path = xraylift::fuzz::scratch_folder("checkpoint") / "checkpoint.safetensors";
  xraylift::fuzz::write_input(path, data, size);
  const auto before = target.model->named_parameters(true)["0.weight"].clone();
  try {
    const std::int64_t step = xraylift::train::read_checkpoint(path, *target.model, *target.optimizer, "00aa");
    if (step < 0) __builtin_trap();
    target.model->train();
    const auto loss = target.model->forward(torch::ones({4, 2})).square().mean();
    target.optimizer->zero_grad();
    loss.backward();
    target.optimizer->step();
    (void)torch::rand({2}).sum().item<float>();
  } catch (const xraylift::core::InputError& e) {
    // A refusal must leave the model as it was (the reader checks the whole file before it restores anything).
    // Compared bit for bit: an earlier input may have loaded NaN weights, and NaN != NaN (a false trap once).
    const auto now = target.model->named_parameters(true)["0.weight"];
    if (!torch::equal(now.view(torch::kInt32), before.view(torch::kInt32))) __builtin_trap();
    if (std::getenv("FUZZ_VERBOSE")) std::fprintf(stderr, "InputError: %s\n", e.what());
  }
  return 0;
}
