// train/checkpoint.hpp: the trainer's checkpoint.safetensors, its exact round trip and what it refuses.
#include "xraylift/train/checkpoint.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

#include "line_dataset.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/safetensors.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/train/safetensors.hpp"
#include "xraylift/train/trainer.hpp"

using namespace xraylift;
using namespace xraylift::train;
namespace fs = std::filesystem;

namespace {

using xraylift::testing::LineDataset;

// Two linear layers around a batch norm: parameters in two groups, float and int64 buffers.
torch::nn::Sequential small_model() {
  return torch::nn::Sequential(torch::nn::Linear(2, 3), torch::nn::BatchNorm1d(3), torch::nn::Linear(3, 1));
}

LossFunction mse_loss(torch::nn::Sequential model) {
  return [model](const Batch& b) mutable {
    std::vector<torch::Tensor> xs, ys;
    for (const auto& s : b) xs.push_back(s.at("x")), ys.push_back(s.at("y"));
    const auto loss = torch::mse_loss(model->forward(torch::stack(xs)), torch::stack(ys));
    return std::map<std::string, torch::Tensor>{{"loss", loss}};
  };
}

TrainerOptions small_options(const fs::path& dir) {
  TrainerOptions o;
  o.out_dir = dir;
  o.schedule.lr = 0.05;
  o.schedule.total_steps = 6;
  o.schedule.warmup_steps = 2;
  o.param_groups = {{"0.", 0.5}};
  o.loader.batch_size = 8;
  o.loader.workers = 0;
  o.augment.enabled = false;
  o.show_progress = false;
  o.log_every = 3;
  o.config_fingerprint = "00aa";
  return o;
}

void use_amsgrad_in_first_group(Trainer& t) {
  static_cast<torch::optim::AdamWOptions&>(t.optimizer().param_groups()[0].options()).amsgrad(true);
}

torch::Tensor cpu_rng_state() { return at::detail::getDefaultCPUGenerator().get_state(); }

const torch::optim::AdamWParamState* adam_state(Trainer& t, const torch::Tensor& param) {
  const auto it = t.optimizer().state().find(param.unsafeGetTensorImpl());
  return it == t.optimizer().state().end() ? nullptr : &static_cast<const torch::optim::AdamWParamState&>(*it->second);
}

std::string load_error(Trainer& t, const fs::path& file) {
  try {
    t.load_checkpoint(file);
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "";
}

// Rewrites a checkpoint with its tensors and metadata changed (a corrupted or foreign file).
void rewrite(
    const fs::path& from, const fs::path& to,
    const std::function<void(std::map<std::string, torch::Tensor>&, std::map<std::string, std::string>&)>& change) {
  const std::string bytes = core::read_file(from);
  auto tensors = parse_safetensors(bytes, from.string());
  auto meta = core::parse_safetensors_metadata(bytes, from.string());
  change(tensors, meta);
  write_safetensors(to, tensors, meta);
}

}  // namespace

// Catches a checkpoint that loses or reorders any part of the training state: a parameter or a buffer (the batch
// norm's int64 count), AdamW's moments or its per-parameter step (bias correction), amsgrad's maximum, the step or
// the CPU generator. Every restored tensor must be bit-identical.
TEST(Checkpoint, RoundTripRestoresModelOptimizerMomentsStepAndRngExactly) {
  const auto dir = xraylift::testing::scratch_dir("checkpoint_round_trip");
  torch::manual_seed(3);
  auto model = small_model();
  Trainer t(small_options(dir), model.ptr(), mse_loss(model));
  use_amsgrad_in_first_group(t);
  t.fit(LineDataset());
  const fs::path file = dir / kCheckpointFile;
  ASSERT_TRUE(fs::is_regular_file(file));
  const torch::Tensor rng_at_save = cpu_rng_state();
  const auto meta = core::parse_safetensors_metadata(core::read_file(file), file.string());
  EXPECT_EQ(meta.at("format"), "xraylift.checkpoint");
  EXPECT_EQ(meta.at("step"), "6");
  EXPECT_EQ(meta.at("param_groups"), "2");
  EXPECT_EQ(meta.at("config_fingerprint"), "00aa");

  torch::manual_seed(99);  // other initial weights and another generator state
  auto fresh = small_model();
  Trainer u(small_options(dir), fresh.ptr(), mse_loss(fresh));
  use_amsgrad_in_first_group(u);
  (void)torch::rand({7});
  u.load_checkpoint(file);
  EXPECT_EQ(u.step(), 6);
  EXPECT_TRUE(torch::equal(cpu_rng_state(), rng_at_save));
  for (const auto& p : model->named_parameters(true))
    EXPECT_TRUE(torch::equal(fresh->named_parameters(true)[p.key()], p.value())) << p.key();
  for (const auto& b : model->named_buffers(true))
    EXPECT_TRUE(torch::equal(fresh->named_buffers(true)[b.key()], b.value())) << b.key();
  int with_max = 0;
  for (const auto& p : model->named_parameters(true)) {
    const auto* saved = adam_state(t, p.value());
    const auto* loaded = adam_state(u, fresh->named_parameters(true)[p.key()]);
    ASSERT_TRUE(saved && loaded) << p.key();
    EXPECT_EQ(loaded->step(), saved->step()) << p.key();
    EXPECT_TRUE(torch::equal(loaded->exp_avg(), saved->exp_avg())) << p.key();
    EXPECT_TRUE(torch::equal(loaded->exp_avg_sq(), saved->exp_avg_sq())) << p.key();
    ASSERT_EQ(loaded->max_exp_avg_sq().defined(), saved->max_exp_avg_sq().defined()) << p.key();
    if (saved->max_exp_avg_sq().defined()) {
      EXPECT_TRUE(torch::equal(loaded->max_exp_avg_sq(), saved->max_exp_avg_sq())) << p.key();
      ++with_max;
    }
  }
  EXPECT_EQ(with_max, 2);  // the first layer's weight and bias (group "0.", amsgrad)
}

// Catches a reader that trusts the file before it has checked it all: every refusal names the file and the first
// mismatch, and leaves the model, the optimizer and the step as they were.
TEST(Checkpoint, AnotherModelCorruptedMetadataOrTruncatedTensorIsRefusedNamingTheFile) {
  const auto dir = xraylift::testing::scratch_dir("checkpoint_refusals");
  const fs::path good = dir / kCheckpointFile;
  {
    torch::manual_seed(3);
    auto model = small_model();
    Trainer t(small_options(dir), model.ptr(), mse_loss(model));
    t.fit(LineDataset());
  }
  torch::manual_seed(5);
  auto target = small_model();
  Trainer t(small_options(dir), target.ptr(), mse_loss(target));
  const auto weight_before = target->named_parameters(true)["0.weight"].clone();
  const fs::path bad = dir / "bad.safetensors";
  struct Case {
    const char* what;
    std::function<void(std::map<std::string, torch::Tensor>&, std::map<std::string, std::string>&)> change;
    const char* message;
  };
  const std::vector<Case> cases{
      {"step not a number", [](auto&, auto& m) { m["step"] = "six"; },
       "__metadata__.step = 'six', expected an integer >= 0"},
      {"no signature", [](auto&, auto& m) { m.erase("signature"); }, "__metadata__ has no 'signature'"},
      {"another format", [](auto&, auto& m) { m["format"] = "other"; }, "__metadata__.format = 'other'"},
      {"a later version", [](auto&, auto& m) { m["format_version"] = "2"; }, "format_version 2"},
      {"groups", [](auto&, auto& m) { m["param_groups"] = "1"; }, "1 parameter groups, the optimizer has 2"},
      {"a weight of another shape",
       [](auto& t, auto&) {
         t["model.2.weight"] = torch::zeros({1, 4});
       },
       "tensor 'model.2.weight' has shape [1, 4], the model's is [1, 3]"},
      {"a weight of another dtype", [](auto& t, auto&) { t["model.0.bias"] = t["model.0.bias"].to(torch::kDouble); },
       "tensor 'model.0.bias' has dtype Double"},
      {"a buffer missing", [](auto& t, auto&) { t.erase("model.1.num_batches_tracked"); },
       "tensor 'model.1.num_batches_tracked' is missing"},
      {"a moment missing", [](auto& t, auto&) { t.erase("optim.0.weight.exp_avg_sq"); },
       "tensor 'optim.0.weight.exp_avg_sq' is missing"},
      {"a step count of zero", [](auto& t, auto&) { t["optim.2.bias.step"] = torch::tensor(std::int64_t{0}); },
       "'optim.2.bias.step' = 0, expected >= 1"},
      {"an unknown tensor", [](auto& t, auto&) { t["model.3.weight"] = torch::zeros({1}); },
       "tensor 'model.3.weight' is not one of this model or optimizer"},
      {"another RNG size", [](auto& t, auto&) { t["rng_cpu"] = torch::zeros({4}, torch::kByte); },
       "tensor 'rng_cpu' has shape [4]"},
      {"an invalid RNG state", [](auto& t, auto&) { t["rng_cpu"] = torch::zeros_like(t["rng_cpu"]); },
       "tensor 'rng_cpu' is not a CPU generator state"},
  };
  for (const auto& c : cases) {
    rewrite(good, bad, c.change);
    const std::string message = load_error(t, bad);
    EXPECT_NE(message.find(bad.string()), std::string::npos) << c.what << ": " << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << c.what << ": " << message;
  }
  // A file cut short: the last tensor's range leaves the file.
  const std::string bytes = core::read_file(good);
  core::write_file_atomic(bad, bytes.substr(0, bytes.size() - 4));
  EXPECT_NE(load_error(t, bad).find(bad.string()), std::string::npos) << load_error(t, bad);
  // A checkpoint of another model: the first tensor that differs is named.
  torch::nn::Sequential other(torch::nn::Linear(2, 5), torch::nn::BatchNorm1d(5), torch::nn::Linear(5, 1));
  Trainer o(small_options(dir), other.ptr(), mse_loss(other));
  const std::string message = load_error(o, good);
  EXPECT_NE(message.find(good.string() + "': tensor 'model.0.weight' has shape [3, 2], the model's is [5, 2]"),
            std::string::npos)
      << message;
  // Nothing was restored by any refusal.
  EXPECT_EQ(t.step(), 0);
  EXPECT_TRUE(t.optimizer().state().empty());
  EXPECT_TRUE(torch::equal(target->named_parameters(true)["0.weight"], weight_before));
  // The intact file still loads into the same trainer.
  EXPECT_NO_THROW(t.load_checkpoint(good));
  EXPECT_EQ(t.step(), 6);
}

// Catches the trainer reading (or silently ignoring and starting over next to) the libtorch archive an older
// xraylift wrote: a TorchScript archive carries code that libtorch compiles at load.
TEST(Checkpoint, AnOldCheckpointPtIsRefusedNotRead) {
  const auto dir = xraylift::testing::scratch_dir("checkpoint_old_format");
  torch::serialize::OutputArchive archive;
  archive.write("step", torch::tensor(7));
  archive.save_to((dir / "checkpoint.pt").string());
  auto model = small_model();
  int loss_calls = 0;
  Trainer t(small_options(dir), model.ptr(), [&](const Batch& b) {
    ++loss_calls;
    return mse_loss(model)(b);
  });
  try {
    t.fit(LineDataset());
    FAIL() << "expected an InputError";
  } catch (const core::InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find((dir / "checkpoint.pt").string() + " is a checkpoint in the old format"), std::string::npos)
        << message;
    EXPECT_NE(message.find("use another --out, or remove it to start over"), std::string::npos) << message;
  }
  EXPECT_EQ(loss_calls, 0);
  EXPECT_FALSE(fs::exists(dir / kCheckpointFile));
  // Named directly, it is not read either.
  EXPECT_NE(load_error(t, dir / "checkpoint.pt").find("is not a safetensors checkpoint (a zip"), std::string::npos);
  // Without resume the old file is left alone and the run starts over.
  auto o = small_options(dir);
  o.resume = false;
  Trainer fresh(o, model.ptr(), mse_loss(model));
  EXPECT_EQ(fresh.fit(LineDataset()).end_step, 6);
}
