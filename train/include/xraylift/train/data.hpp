#pragma once
// Generic training data: samples are named tensors, datasets index them, the loader batches them on worker
// threads with prefetch. Everything is a pure function of (seed, step), so training resumes exactly: batch s
// holds the dataset indices of a seeded per-epoch permutation and each sample's augmentation seed is derived
// from (seed, step, slot), whichever thread computes it.
#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "xraylift/core/config.hpp"

namespace xraylift::train {

struct Sample {
  std::string id;                                         // e.g. "case/view3"
  std::map<std::string, torch::Tensor> tensors;           // e.g. "image" [C, H, W], "boxes" [G, 4], "labels" [G]
  const torch::Tensor& at(const std::string& key) const;  // throws InputError naming the key
};
using Batch = std::vector<Sample>;

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::size_t size() const = 0;
  virtual Sample get(std::size_t index) const = 0;  // thread-safe
  // The loader calls this one with a per-sample seed derived from (seed, step, slot): datasets that randomize
  // their samples (on-the-fly rendering with rig jitter) override it; the default ignores the seed.
  virtual Sample get(std::size_t index, std::uint64_t /*sample_seed*/) const { return get(index); }
};

// Photometric augmentations (docs/detect2d.md) on an "image" tensor [C, H, W] with values in about [0, 1].
// Each is applied with its own probability; all randomness comes from `seed`.
struct PhotometricAugment {
  bool enabled = true;
  double p = 0.5;              // probability of each augmentation
  double brightness = 0.1;     // additive shift in [-b, b]
  double contrast = 0.2;       // factor in [1 - c, 1 + c] around the mean
  double gamma = 0.3;          // exponent in [1 - g, 1 + g]
  double noise_std = 0.03;     // gaussian noise sigma in [0, s]
  double blur_sigma = 1.0;     // gaussian blur sigma in [0.3, s] pixels
  double salt_pepper = 0.005;  // fraction of pixels set to 0 or 1
  double vignetting = 0.3;     // edge darkening strength in [0, v]

  static PhotometricAugment from_config(const core::Config& section);
  void apply(torch::Tensor& image, std::uint64_t seed) const;
};

struct LoaderOptions {
  int batch_size = 2;
  int workers = 2;
  int prefetch = 4;  // batches computed ahead
  bool shuffle = true;
  std::uint64_t seed = 0;
  // Data parallel (train/distributed.hpp): batch_size stays the global batch; rank r of world_size takes its
  // contiguous slice of every step's slots, with the same per-slot augmentation seeds as a single process.
  int rank = 0, world_size = 1;
};

// Deterministic per-step batches, computed by worker threads ahead of time.
class Loader {
 public:
  using Transform = std::function<void(Sample&, std::uint64_t seed)>;
  Loader(const Dataset& dataset, LoaderOptions options, Transform transform = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Starts producing batches from `step` on (call once, before next()).
  void start(std::int64_t step);
  Batch next();  // the batch of the current step, then advances; rethrows a worker's error
  // The dataset indices of a step's global batch (pure function; exposed for tests).
  std::vector<std::size_t> indices_for_step(std::int64_t step) const;
  Batch make_batch(std::int64_t step) const;  // this rank's slice of the step's global batch

 private:
  void worker();
  const Dataset& dataset_;
  LoaderOptions options_;
  Transform transform_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::int64_t, Batch> ready_;
  std::int64_t next_claim_ = 0, next_serve_ = 0;
  bool stop_ = false;
  std::map<std::int64_t, std::exception_ptr> errors_;  // per step: next() rethrows in step order
};

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b);  // splitmix64-style combination

}  // namespace xraylift::train
