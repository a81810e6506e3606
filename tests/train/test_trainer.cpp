// The generic trainer: schedule shape, deterministic loader, seeded augmentations, a model that must learn,
// checkpoint round trip, metrics and plot.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <set>

#include "line_dataset.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/interrupt.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/train/trainer.hpp"

using namespace xraylift;
using namespace xraylift::train;

namespace {

using xraylift::testing::LineDataset;

LossFunction mse_loss(torch::nn::Linear model) {
  return [model](const Batch& b) mutable {
    std::vector<torch::Tensor> xs, ys;
    for (const auto& s : b) xs.push_back(s.at("x")), ys.push_back(s.at("y"));
    const auto loss = torch::mse_loss(model->forward(torch::stack(xs)), torch::stack(ys));
    return std::map<std::string, torch::Tensor>{{"loss", loss}, {"loss_mse", loss}};
  };
}

TrainerOptions line_options(const std::filesystem::path& dir) {
  TrainerOptions o;
  o.out_dir = dir;
  o.schedule.lr = 0.2;
  o.schedule.total_steps = 300;
  o.schedule.warmup_steps = 10;
  o.weight_decay = 0;
  o.loader.batch_size = 8;
  o.loader.workers = 2;
  o.augment.enabled = false;
  o.show_progress = false;
  o.log_every = 10;
  return o;
}

}  // namespace

TEST(Schedule, WarmupThenCosine) {
  Schedule s;
  s.lr = 1;
  s.total_steps = 100;
  s.warmup_steps = 10;
  s.warmup_start = 1.0 / 3;
  s.final_ratio = 1e-3;
  EXPECT_NEAR(s.factor(0), 1.0 / 3, 1e-12);
  EXPECT_NEAR(s.factor(5), 1.0 / 3 + 2.0 / 3 * 0.5, 1e-12);
  EXPECT_NEAR(s.factor(10), 1.0, 1e-12);
  EXPECT_NEAR(s.factor(55), 1e-3 + (1 - 1e-3) * 0.5, 1e-9);  // cosine midpoint
  EXPECT_NEAR(s.factor(100), 1e-3, 1e-12);
  for (int i = 11; i <= 100; ++i) EXPECT_LE(s.factor(i), s.factor(i - 1) + 1e-15);
}

TEST(Loader, BatchesArePureFunctionsOfSeedAndStepAndCoverEachEpoch) {
  LineDataset data;
  LoaderOptions o;
  o.batch_size = 8;
  o.workers = 3;
  o.seed = 5;
  Loader a(data, o), b(data, o);
  a.start(0);
  b.start(3);
  std::vector<std::string> ids_a;
  std::set<std::string> epoch0;
  for (int s = 0; s < 8; ++s) {
    const auto batch = a.next();
    for (const auto& x : batch) epoch0.insert(x.id), ids_a.push_back(x.id);
  }
  EXPECT_EQ(epoch0.size(), 64u);  // one epoch visits every sample once
  const auto b3 = b.next();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(b3[k].id, ids_a[3 * 8 + k]);
  o.seed = 6;
  Loader c(data, o);
  EXPECT_NE(c.indices_for_step(0), a.indices_for_step(0));
}

TEST(Loader, AWorkerErrorReachesTheTrainingThread) {
  class Broken : public Dataset {
   public:
    std::size_t size() const override { return 10; }
    Sample get(std::size_t i) const override {
      if (i == 7) throw core::InputError("view 7 is unreadable");
      Sample s;
      s.id = std::to_string(i);
      return s;
    }
  };
  Broken data;
  LoaderOptions o;
  o.batch_size = 5;
  o.shuffle = false;
  o.workers = 2;
  Loader loader(data, o);
  loader.start(0);
  EXPECT_EQ(loader.next().size(), 5u);
  EXPECT_THROW(loader.next(), core::InputError);
}

TEST(Augment, SeededInRangeAndEachKindChangesTheImage) {
  PhotometricAugment aug;
  aug.p = 1.0;
  auto img = torch::full({1, 32, 32}, 0.5f);
  auto a = img.clone(), b = img.clone(), c = img.clone();
  aug.apply(a, 42);
  aug.apply(b, 42);
  aug.apply(c, 43);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  EXPECT_GE(a.min().item<float>(), 0.f);
  EXPECT_LE(a.max().item<float>(), 1.f);
  PhotometricAugment off = aug;
  off.enabled = false;
  auto d = img.clone();
  off.apply(d, 1);
  EXPECT_TRUE(torch::equal(d, img));
  // p = 0.5: over many seeds roughly half the images get salt-and-pepper (exact 0/1 pixels).
  PhotometricAugment sp;
  sp.brightness = sp.contrast = sp.gamma = sp.noise_std = sp.blur_sigma = sp.vignetting = 0;
  sp.salt_pepper = 0.2;
  int hit = 0;
  for (int s = 0; s < 200; ++s) {
    auto x = img.clone();
    sp.apply(x, s);
    hit += (x == 0).any().item<bool>();
  }
  EXPECT_GT(hit, 70);
  EXPECT_LT(hit, 130);
  EXPECT_THROW(PhotometricAugment::from_config(core::Config::from_yaml("p: 1.5")), core::ConfigError);
}

TEST(Trainer, LearnsALineWritesMetricsPlotAndCheckpoint) {
  torch::manual_seed(0);
  torch::nn::Linear model(2, 1);
  const auto dir = xraylift::testing::scratch_dir("train_line");
  Trainer t(line_options(dir), model.ptr(), mse_loss(model));
  LineDataset data;
  const auto r = t.fit(data);
  EXPECT_EQ(r.end_step, 300);
  EXPECT_LT(r.last_losses.at("loss"), 1e-3);
  EXPECT_GT(r.first_losses.at("loss"), 10 * r.last_losses.at("loss"));
  EXPECT_NEAR(model->weight[0][0].item<float>(), 3.0, 0.05);
  std::ifstream in(r.metrics);
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_EQ(lines, 30);
  EXPECT_TRUE(std::filesystem::file_size(r.plot) > 1000);
  // Resuming a finished run does nothing: it starts and ends at the last step, never calls the loss, leaves the
  // metrics as they were and hands back the trained weights (a fresh model with other initial weights).
  std::string metrics_before;
  std::getline(std::ifstream(r.metrics), metrics_before, '\0');
  torch::manual_seed(1);
  torch::nn::Linear again(2, 1);
  int loss_calls = 0;
  const LossFunction counted = [&, loss = mse_loss(again)](const Batch& b) {
    ++loss_calls;
    return loss(b);
  };
  Trainer resumed(line_options(dir), again.ptr(), counted);
  const auto noop = resumed.fit(data);
  EXPECT_EQ(noop.start_step, 300);
  EXPECT_EQ(noop.end_step, 300);
  EXPECT_EQ(loss_calls, 0);
  EXPECT_TRUE(torch::equal(again->weight, model->weight));
  std::string metrics_after;
  std::getline(std::ifstream(r.metrics), metrics_after, '\0');
  EXPECT_TRUE(metrics_after == metrics_before) << "the finished run rewrote " << r.metrics;
  // A different model cannot load the checkpoint.
  torch::nn::Linear other(3, 1);
  Trainer t2(line_options(dir), other.ptr(), mse_loss(other));
  EXPECT_THROW(t2.load_checkpoint(r.checkpoint), core::InputError);
}

TEST(Trainer, ParamGroupsGetTheirLearningRateMultipliers) {
  torch::nn::Sequential model(torch::nn::Linear(2, 2), torch::nn::Linear(2, 1));
  auto o = line_options(xraylift::testing::scratch_dir("train_groups"));
  o.param_groups = {{"0.", 0.25}};
  Trainer t(o, model.ptr(), [](const Batch&) { return std::map<std::string, torch::Tensor>{}; });
  auto& groups = t.optimizer().param_groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].params().size(), 2u);
  EXPECT_NEAR(static_cast<torch::optim::AdamWOptions&>(groups[0].options()).lr(), 0.2 * 0.25, 1e-12);
  const auto cfg = core::Config::from_yaml("steps: 0\n");
  EXPECT_THROW(TrainerOptions::from_config(cfg), core::ConfigError);
}

TEST(Checkpoint, FromAnotherConfigIsRefused) {
  const auto dir = xraylift::testing::scratch_dir("train_fingerprint");
  auto o = line_options(dir);
  o.schedule.total_steps = 3;
  o.config_fingerprint = "aaaa";
  {
    torch::manual_seed(0);
    torch::nn::Linear model(2, 1);
    Trainer t(o, model.ptr(), mse_loss(model));
    t.fit(LineDataset());
  }
  o.config_fingerprint = "bbbb";
  torch::nn::Linear model(2, 1);
  Trainer t(o, model.ptr(), mse_loss(model));
  try {
    t.load_checkpoint(dir / kCheckpointFile);
    FAIL() << "expected ConfigError";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("another config"), std::string::npos) << e.what();
  }
  o.config_fingerprint = "aaaa";
  Trainer same(o, model.ptr(), mse_loss(model));
  EXPECT_NO_THROW(same.load_checkpoint(dir / kCheckpointFile));
}

TEST(Trainer, InterruptStopsBetweenStepsWithACheckpointThatResumesExactly) {
  const auto dir = xraylift::testing::scratch_dir("train_interrupt");
  auto o = line_options(dir);
  o.schedule.total_steps = 40;
  o.log_every = 5;
  // Reference: the same 40 steps without an interruption.
  torch::manual_seed(0);
  torch::nn::Linear straight(2, 1);
  {
    auto ro = o;
    ro.out_dir = xraylift::testing::scratch_dir("train_interrupt_reference");
    Trainer t(ro, straight.ptr(), mse_loss(straight));
    t.fit(LineDataset());
  }
  // A stop requested during step 17 (as Ctrl-C would): the trainer finishes that step, saves, and throws.
  core::clear_interrupt();
  torch::manual_seed(0);
  torch::nn::Linear model(2, 1);
  int calls = 0;
  auto base_loss = mse_loss(model);
  LossFunction loss = [&](const Batch& b) {
    if (++calls == 17) core::request_interrupt();
    return base_loss(b);
  };
  {
    Trainer t(o, model.ptr(), loss);
    try {
      t.fit(LineDataset());
      FAIL() << "expected Interrupted";
    } catch (const core::Interrupted& e) {
      EXPECT_NE(std::string(e.what()).find("stopped at step 17 of 40"), std::string::npos) << e.what();
    }
    EXPECT_EQ(t.step(), 17);
  }
  core::clear_interrupt();
  // The same command resumes from the checkpoint and ends where the uninterrupted run ended.
  torch::nn::Linear resumed(2, 1);
  Trainer t(o, resumed.ptr(), mse_loss(resumed));
  const auto r = t.fit(LineDataset());
  EXPECT_EQ(r.start_step, 17);
  EXPECT_EQ(r.end_step, 40);
  EXPECT_TRUE(torch::allclose(resumed->weight, straight->weight, 1e-6, 1e-7))
      << resumed->weight << " vs " << straight->weight;
}

TEST(Checkpoint, FingerprintIgnoresResumeKeysOnly) {
  const auto a = core::Config::from_yaml("model: {x: 1}\ntrain: {lr: 0.1, stop_after: 5, workers: 2}\n");
  const auto b = core::Config::from_yaml("model: {x: 1}\ntrain: {lr: 0.1, workers: 1}\n");
  const auto c = core::Config::from_yaml("model: {x: 2}\ntrain: {lr: 0.1}\n");
  EXPECT_EQ(config_fingerprint(a), config_fingerprint(b));
  EXPECT_NE(config_fingerprint(a), config_fingerprint(c));
  EXPECT_EQ(config_fingerprint(a).size(), 16u);
  // The thread count changes how fast a run goes, not what it learns.
  const auto d = core::Config::from_yaml("threads: 1\nmodel: {x: 1}\ntrain: {lr: 0.1}\n");
  EXPECT_EQ(config_fingerprint(d), config_fingerprint(b));
}

TEST(Loader, RanksSliceTheGlobalBatchWithTheSameSeeds) {
  LineDataset data;
  LoaderOptions o;
  o.batch_size = 4;
  o.workers = 0;
  o.seed = 9;
  std::vector<std::uint64_t> seen;
  auto record = [&seen](Sample& s, std::uint64_t seed) { s.id += "@" + std::to_string(seed); };
  Loader whole(data, o, record);
  const auto all = whole.make_batch(7);
  o.world_size = 2;
  for (int r = 0; r < 2; ++r) {
    o.rank = r;
    Loader part(data, o, record);
    const auto b = part.make_batch(7);
    ASSERT_EQ(b.size(), 2u);
    for (int k = 0; k < 2; ++k) EXPECT_EQ(b[k].id, all[2 * r + k].id);
  }
  o.batch_size = 3;
  EXPECT_THROW(Loader(data, o, record), core::InputError);
}
