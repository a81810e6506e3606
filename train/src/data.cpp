// Samples, the deterministic threaded loader and the photometric augmentations.
#include "xraylift/train/data.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "xraylift/core/error.hpp"

namespace xraylift::train {

const torch::Tensor& Sample::at(const std::string& key) const {
  const auto it = tensors.find(key);
  XL_CHECK(it != tensors.end(), "sample '", id, "' has no tensor '", key, "'");
  return it->second;
}

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

PhotometricAugment PhotometricAugment::from_config(const core::Config& c) {
  PhotometricAugment a;
  a.enabled = c.get("enabled", a.enabled);
  a.p = c.get("p", a.p);
  a.brightness = c.get("brightness", a.brightness);
  a.contrast = c.get("contrast", a.contrast);
  a.gamma = c.get("gamma", a.gamma);
  a.noise_std = c.get("noise_std", a.noise_std);
  a.blur_sigma = c.get("blur_sigma", a.blur_sigma);
  a.salt_pepper = c.get("salt_pepper", a.salt_pepper);
  a.vignetting = c.get("vignetting", a.vignetting);
  auto check = [&](double v, double hi, const char* key) {
    if (!(v >= 0 && v <= hi))
      throw core::ConfigError(
          core::cat("augment.", key, " must lie in [0, ", hi, "], got ", v, " (", c.origin(key), ")"));
  };
  check(a.p, 1, "p");
  check(a.brightness, 1, "brightness");
  check(a.contrast, 1, "contrast");
  check(a.gamma, 0.9, "gamma");
  check(a.noise_std, 1, "noise_std");
  check(a.blur_sigma, 10, "blur_sigma");
  check(a.salt_pepper, 0.5, "salt_pepper");
  check(a.vignetting, 1, "vignetting");
  return a;
}

namespace {

torch::Tensor gaussian_blur(const torch::Tensor& image, double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  auto k = torch::arange(-radius, radius + 1, torch::kFloat);
  k = torch::exp(-(k * k) / (2 * sigma * sigma));
  k = k / k.sum();
  const auto x = image.unsqueeze(1);  // [C, 1, H, W]
  namespace F = torch::nn::functional;
  auto padded = F::pad(x, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReplicate));
  auto y = F::conv2d(padded, k.view({1, 1, 1, -1}));
  y = F::conv2d(y, k.view({1, 1, -1, 1}));
  return y.squeeze(1);
}

}  // namespace

void PhotometricAugment::apply(torch::Tensor& image, std::uint64_t seed) const {
  if (!enabled) return;
  XL_CHECK(image.dim() == 3, "augment: image must be [C, H, W]");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto coin = [&] { return u(rng) < p; };
  auto range = [&](double lo, double hi) { return lo + (hi - lo) * u(rng); };
  auto gen = at::detail::createCPUGenerator(mix_seed(seed, 17));
  torch::NoGradGuard no_grad;
  auto x = image.to(torch::kFloat).clone();
  if (coin()) x = x + range(-brightness, brightness);
  if (coin()) {
    const auto mean = x.mean();
    x = (x - mean) * range(1 - contrast, 1 + contrast) + mean;
  }
  if (coin()) x = x.clamp(0, 1).pow(range(1 - gamma, 1 + gamma));
  if (coin() && noise_std > 0) x = x + torch::randn(x.sizes(), gen) * range(0, noise_std);
  if (coin() && blur_sigma > 0.3) x = gaussian_blur(x, range(0.3, blur_sigma));
  if (coin() && salt_pepper > 0) {
    const auto r = torch::rand({x.size(1), x.size(2)}, gen);
    const double f = range(0, salt_pepper);
    x.masked_fill_((r < 0.5 * f).expand_as(x), 0.0);
    x.masked_fill_((r > 1 - 0.5 * f).expand_as(x), 1.0);
  }
  if (coin() && vignetting > 0) {
    const int64_t H = x.size(1), W = x.size(2);
    const auto ys = (torch::arange(H, torch::kFloat) + 0.5) / H - 0.5;
    const auto xs = (torch::arange(W, torch::kFloat) + 0.5) / W - 0.5;
    const auto r2 = (ys.view({-1, 1}).pow(2) + xs.view({1, -1}).pow(2)) * 2;  // 1 at the corners
    x = x * (1 - range(0, vignetting) * r2).unsqueeze(0);
  }
  image = x.clamp(0, 1).to(image.scalar_type());
}

Loader::Loader(const Dataset& dataset, LoaderOptions options, Transform transform)
    : dataset_(dataset), options_(options), transform_(std::move(transform)) {
  XL_CHECK(dataset_.size() > 0, "loader: the dataset is empty");
  XL_CHECK(options_.batch_size >= 1, "loader: batch_size must be >= 1, got ", options_.batch_size);
  XL_CHECK(options_.workers >= 0, "loader: workers must be >= 0, got ", options_.workers);
  XL_CHECK(options_.prefetch >= 1, "loader: prefetch must be >= 1, got ", options_.prefetch);
  XL_CHECK(options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size, "loader: rank ",
           options_.rank, " must lie in [0, world_size = ", options_.world_size, ")");
  XL_CHECK(options_.batch_size % options_.world_size == 0, "loader: the global batch_size ", options_.batch_size,
           " must be a multiple of world_size ", options_.world_size);
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::vector<std::size_t> Loader::indices_for_step(std::int64_t step) const {
  const std::size_t n = dataset_.size();
  std::vector<std::size_t> out;
  std::int64_t position = step * options_.batch_size;
  std::int64_t cached_epoch = -1;
  std::vector<std::size_t> order(n);
  for (int k = 0; k < options_.batch_size; ++k, ++position) {
    const std::int64_t epoch = position / static_cast<std::int64_t>(n);
    if (epoch != cached_epoch) {
      std::iota(order.begin(), order.end(), std::size_t{0});
      if (options_.shuffle) {
        std::mt19937_64 rng(mix_seed(options_.seed, static_cast<std::uint64_t>(epoch)));
        std::shuffle(order.begin(), order.end(), rng);
      }
      cached_epoch = epoch;
    }
    out.push_back(order[static_cast<std::size_t>(position % static_cast<std::int64_t>(n))]);
  }
  return out;
}

Batch Loader::make_batch(std::int64_t step) const {
  Batch batch;
  const auto idx = indices_for_step(step);
  const std::size_t per_rank = idx.size() / static_cast<std::size_t>(options_.world_size);
  const std::size_t first = per_rank * static_cast<std::size_t>(options_.rank);
  for (std::size_t k = first; k < first + per_rank; ++k) {
    const std::uint64_t slot_seed =
        mix_seed(mix_seed(options_.seed ^ 0xA5A5A5A5ULL, static_cast<std::uint64_t>(step)), k);
    Sample s = dataset_.get(idx[k], mix_seed(slot_seed, 0x5EED));
    if (transform_) transform_(s, slot_seed);
    batch.push_back(std::move(s));
  }
  return batch;
}

void Loader::start(std::int64_t step) {
  XL_CHECK(threads_.empty(), "loader: start() called twice");
  next_claim_ = next_serve_ = step;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker(); });
}

void Loader::worker() {
  while (true) {
    std::int64_t step;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || next_claim_ < next_serve_ + options_.prefetch; });
      if (stop_) return;
      step = next_claim_++;
    }
    try {
      Batch b = make_batch(step);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_[step] = std::move(b);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      errors_[step] = std::current_exception();
    }
    cv_.notify_all();
  }
}

Batch Loader::next() {
  if (threads_.empty()) return make_batch(next_serve_++);  // workers = 0: synchronous
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return errors_.count(next_serve_) || ready_.count(next_serve_); });
  if (errors_.count(next_serve_)) std::rethrow_exception(errors_[next_serve_]);
  Batch b = std::move(ready_[next_serve_]);
  ready_.erase(next_serve_++);
  lock.unlock();
  cv_.notify_all();
  return b;
}

}  // namespace xraylift::train
