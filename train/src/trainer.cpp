// The generic training loop, its schedule, checkpoints and metrics.
#include "xraylift/train/trainer.hpp"

#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/interrupt.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/train/checkpoint.hpp"

namespace fs = std::filesystem;

namespace xraylift::train {

double Schedule::factor(std::int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps) {
    const double a = static_cast<double>(step) / static_cast<double>(warmup_steps);
    return warmup_start + (1.0 - warmup_start) * a;
  }
  const double span = static_cast<double>(std::max<std::int64_t>(total_steps - warmup_steps, 1));
  const double t = std::min(1.0, static_cast<double>(step - warmup_steps) / span);
  return final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + std::cos(M_PI * t));
}

TrainerOptions TrainerOptions::from_config(const core::Config& c) {
  TrainerOptions o;
  o.schedule.lr = c.get("lr", o.schedule.lr);
  o.schedule.total_steps = c.get("steps", static_cast<long long>(o.schedule.total_steps));
  o.schedule.warmup_steps = c.get("warmup_steps", static_cast<long long>(o.schedule.warmup_steps));
  o.schedule.warmup_start = c.get("warmup_start", o.schedule.warmup_start);
  o.schedule.final_ratio = c.get("final_ratio", o.schedule.final_ratio);
  o.weight_decay = c.get("weight_decay", o.weight_decay);
  o.clip_norm = c.get("clip_norm", o.clip_norm);
  o.stop_after = c.get("stop_after", static_cast<long long>(o.stop_after));
  o.checkpoint_every = c.get("checkpoint_every", static_cast<long long>(o.checkpoint_every));
  o.log_every = c.get("log_every", static_cast<long long>(o.log_every));
  o.resume = c.get("resume", o.resume);
  o.seed = static_cast<std::uint64_t>(c.get("seed", static_cast<long long>(o.seed)));
  o.device = c.get("device", o.device);
  o.bf16_autocast = c.get("bf16", o.bf16_autocast);
  // Counts against their range here, before a command writes any data (issue 23).
  o.loader.batch_size = c.get_in_range("batch_size", o.loader.batch_size, 1, 65536);
  o.loader.workers = c.get_in_range("workers", o.loader.workers, 0, 256);
  o.loader.prefetch = c.get_in_range("prefetch", o.loader.prefetch, 0, 4096);
  o.loader.shuffle = c.get("shuffle", o.loader.shuffle);
  o.loader.seed = o.seed;
  if (c.has("distributed")) o.distributed = DistOptions::from_config(c.section("distributed"));
  if (c.has("augment")) o.augment = PhotometricAugment::from_config(c.section("augment"));
  if (c.has("param_groups")) {
    const auto node = c.node("param_groups");
    if (!node.IsSequence())
      throw core::ConfigError(
          core::cat("train.param_groups must be a list of {prefix, lr_mult} (", c.origin("param_groups"), ")"));
    for (const auto& g : node) {
      if (!g["prefix"] || !g["lr_mult"])
        throw core::ConfigError(
            core::cat("train.param_groups entries need prefix and lr_mult (", c.origin("param_groups"), ")"));
      o.param_groups.push_back({g["prefix"].as<std::string>(), g["lr_mult"].as<double>()});
    }
  }
  auto fail = [&](const std::string& key, const std::string& what) {
    throw core::ConfigError(core::cat("train.", key, " ", what, " (", c.origin(key), ")"));
  };
  if (!(o.schedule.lr > 0)) fail("lr", core::cat("must be > 0, got ", o.schedule.lr));
  if (o.schedule.total_steps < 1) fail("steps", core::cat("must be >= 1, got ", o.schedule.total_steps));
  if (o.schedule.warmup_steps < 0) fail("warmup_steps", "must be >= 0");
  if (o.log_every < 1) fail("log_every", "must be >= 1");
  if (o.loader.batch_size < 1) fail("batch_size", "must be >= 1");
  if (o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    fail("device", core::cat("must be cpu or cuda[:N], got '", o.device, "'"));
  return o;
}

Trainer::Trainer(TrainerOptions options, std::shared_ptr<torch::nn::Module> model, LossFunction loss)
    : options_(std::move(options)), model_(std::move(model)), loss_(std::move(loss)) {
  XL_CHECK(model_ != nullptr, "trainer: no model");
  XL_CHECK(static_cast<bool>(loss_), "trainer: no loss function");
  const torch::Device device(options_.device);
  if (device.is_cuda())
    XL_CHECK(torch::cuda::is_available(), "trainer: device ", options_.device, " requested but CUDA is unavailable");
  model_->to(device);
  // One group per rule (first matching prefix wins) plus the default group.
  std::vector<std::vector<torch::Tensor>> grouped(options_.param_groups.size() + 1);
  for (const auto& p : model_->named_parameters(true)) {
    if (!p.value().requires_grad()) continue;
    std::size_t g = options_.param_groups.size();
    for (std::size_t r = 0; r < options_.param_groups.size(); ++r)
      if (p.key().rfind(options_.param_groups[r].prefix, 0) == 0) {
        g = r;
        break;
      }
    grouped[g].push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (std::size_t g = 0; g < grouped.size(); ++g) {
    if (grouped[g].empty()) continue;
    const double mult = g < options_.param_groups.size() ? options_.param_groups[g].lr_mult : 1.0;
    auto opts = std::make_unique<torch::optim::AdamWOptions>(options_.schedule.lr * mult);
    opts->weight_decay(options_.weight_decay).betas({options_.beta1, options_.beta2});
    groups.emplace_back(grouped[g], std::move(opts));
    group_mults_.push_back(mult);
  }
  XL_CHECK(!groups.empty(), "trainer: the model has no trainable parameters");
  if (options_.comm) rank_slots(options_.loader.batch_size, options_.comm->rank(), options_.comm->world_size());
  optimizer_ =
      std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(options_.schedule.lr));
}

void Trainer::set_learning_rates() {
  const double f = options_.schedule.factor(step_);
  auto& groups = optimizer_->param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g)
    static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(options_.schedule.lr * group_mults_[g] * f);
}

void Trainer::save_checkpoint(const fs::path& path) const {
  write_checkpoint(path, *model_, *optimizer_, step_, options_.config_fingerprint);
}

void Trainer::load_checkpoint(const fs::path& path) {
  step_ = read_checkpoint(path, *model_, *optimizer_, options_.config_fingerprint);
}

namespace {

std::vector<nlohmann::json> read_metrics(const fs::path& path, std::int64_t up_to_step) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("step", std::int64_t{0}) <= up_to_step) out.push_back(std::move(j));
    } catch (const std::exception&) {
      // a torn last line from an interrupted run: drop it
    }
  }
  return out;
}

void write_metrics(const fs::path& path, const std::vector<nlohmann::json>& lines) {
  std::string text;
  for (const auto& j : lines) text += j.dump() + "\n";
  core::write_file_atomic(path, text);
}

// bf16 autocast on CUDA around the forward pass; the previous state comes back on every exit, exceptions included.
class CudaBf16Autocast {
 public:
  explicit CudaBf16Autocast(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    previous_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  }
  ~CudaBf16Autocast() {
    if (!enabled_) return;
    at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
    at::autocast::set_autocast_dtype(at::kCUDA, previous_dtype_);
    if (!was_enabled_) at::autocast::clear_cache();
  }
  CudaBf16Autocast(const CudaBf16Autocast&) = delete;
  CudaBf16Autocast& operator=(const CudaBf16Autocast&) = delete;

 private:
  bool enabled_;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

}  // namespace

TrainResult Trainer::fit(const Dataset& dataset) {
  Communicator* comm = options_.comm.get();
  try {
    return fit_impl(dataset);
  } catch (const std::exception& e) {
    if (comm != nullptr) comm->publish_failure(e.what());
    throw;
  }
}

TrainResult Trainer::fit_impl(const Dataset& dataset) {
  Communicator* comm = options_.comm.get();
  const bool root = comm == nullptr || comm->is_root();
  const int world = comm != nullptr ? comm->world_size() : 1;
  fs::create_directories(options_.out_dir);
  TrainResult result;
  result.checkpoint = options_.out_dir / kCheckpointFile;
  result.metrics = options_.out_dir / "metrics.jsonl";
  result.plot = options_.out_dir / "loss.png";
  // Every rank resumes from the same file (a shared folder on clusters); the loader's batches depend on the global
  // step only, so a run resumes exactly under another world size.
  // The libtorch archive of an older xraylift is not read (a TorchScript archive carries code that libtorch
  // compiles at load); resuming would silently start over next to it, so say what to do instead.
  const fs::path old_checkpoint = options_.out_dir / "checkpoint.pt";
  if (options_.resume && !fs::exists(result.checkpoint) && fs::exists(old_checkpoint))
    throw core::InputError(core::cat(old_checkpoint.string(),
                                     " is a checkpoint in the old format (a libtorch archive), which this xraylift no "
                                     "longer reads (checkpoints are now ",
                                     kCheckpointFile, "): use another --out, or remove it to start over"));
  if (options_.resume && fs::exists(result.checkpoint)) {
    load_checkpoint(result.checkpoint);
    if (root) core::log::info("resumed from ", result.checkpoint.string(), " at step ", step_);
  }
  if (comm != nullptr) {
    // Equal starting weights on every rank (initial --weights read by rank 0 count), then nobody writes the
    // checkpoint before everyone has read it.
    std::vector<torch::Tensor> state;
    for (const auto& p : model_->parameters(true)) state.push_back(p);
    for (const auto& b : model_->buffers(true)) state.push_back(b);
    comm->broadcast(state);
    // Every rank must continue from rank 0's step (a checkpoint folder that is not shared breaks this).
    std::vector<torch::Tensor> root_step{torch::tensor({static_cast<double>(step_)}, torch::kDouble)};
    comm->broadcast(root_step);
    const auto expected = static_cast<std::int64_t>(root_step[0].item<double>());
    if (expected != step_)
      throw core::InputError(core::cat("distributed: rank ", comm->rank(), " resumed at step ", step_,
                                       " but rank 0 at step ", expected, ": every rank must see the same ",
                                       result.checkpoint.string(), " (use a shared --out folder)"));
    comm->barrier("resumed");
  }
  std::vector<nlohmann::json> metrics =
      step_ > 0 && root ? read_metrics(result.metrics, step_) : std::vector<nlohmann::json>{};
  result.start_step = step_;
  const std::int64_t total = options_.schedule.total_steps;
  const std::int64_t end = options_.stop_after >= 0 ? std::min(options_.stop_after, total) : total;
  const torch::Device device(options_.device);
  const bool autocast = device.is_cuda() && options_.bf16_autocast;

  const PhotometricAugment augment = options_.augment;
  LoaderOptions loader_options = options_.loader;
  if (comm != nullptr) {
    rank_slots(loader_options.batch_size, comm->rank(), world);  // throws ConfigError naming the mismatch
    loader_options.rank = comm->rank();
    loader_options.world_size = world;
  }
  Loader loader(dataset, loader_options, [augment](Sample& s, std::uint64_t seed) {
    auto it = s.tensors.find("image");
    if (it != s.tensors.end()) augment.apply(it->second, seed);
  });
  loader.start(step_);
  model_->train();
  std::unique_ptr<core::Progress> progress;
  if (options_.show_progress && root) progress = std::make_unique<core::Progress>("train", end - step_);
  std::map<std::string, double> window;
  std::int64_t window_n = 0;
  double grad_norm_sum = 0;
  auto window_start = std::chrono::steady_clock::now();
  const auto run_start = window_start;
  std::vector<torch::Tensor> params;
  for (auto& g : optimizer_->param_groups())
    for (auto& p : g.params()) params.push_back(p);

  while (step_ < end) {
    if (core::interrupt_requested()) {
      // Stop between steps: the checkpoint of this step lets the same command resume exactly.
      if (progress) progress->finish();
      if (root) {
        save_checkpoint(result.checkpoint);
        write_metrics(result.metrics, metrics);
      }
      throw core::Interrupted(core::cat("train: stopped at step ", step_, " of ", end, "; ", result.checkpoint.string(),
                                        " written: the same command resumes from it"));
    }
    if (comm != nullptr) comm->check_peers();
    set_learning_rates();
    const Batch batch = loader.next();
    std::map<std::string, torch::Tensor> losses;
    {
      const CudaBf16Autocast scope(autocast);
      losses = loss_(batch);
    }
    const auto it = losses.find("loss");
    XL_CHECK(it != losses.end(), "trainer: the loss function returned no 'loss' entry");
    const torch::Tensor loss = it->second;
    const double loss_value = loss.item<double>();
    XL_CHECK(std::isfinite(loss_value), "trainer: non-finite loss ", loss_value, " at step ", step_,
             " (lower train.lr or check the data)");
    optimizer_->zero_grad();
    loss.backward();
    // The mean of the ranks' per-slice gradients is the gradient of the global batch's loss when the loss is a
    // mean over samples (docs/ARCHITECTURE.md "Training at scale").
    if (comm != nullptr) comm->allreduce_gradients(params);
    double grad_norm = 0;
    if (options_.clip_norm > 0) grad_norm = torch::nn::utils::clip_grad_norm_(params, options_.clip_norm);
    optimizer_->step();
    ++step_;
    for (const auto& [k, v] : losses) window[k] += v.item<double>();
    grad_norm_sum += grad_norm;
    ++window_n;
    if (progress) {
      progress->set_status(core::cat("loss ", std::round(loss_value * 1000) / 1000));
      progress->tick();
    }
    if (step_ % options_.log_every == 0 || step_ == end) {
      if (comm != nullptr) {
        // Log the mean over ranks (every rank reaches this step with the same keys).
        auto sums = torch::zeros({static_cast<std::int64_t>(window.size())}, torch::kDouble);
        std::size_t i = 0;
        for (const auto& [k, v] : window) sums[static_cast<std::int64_t>(i++)] = v;
        std::vector<torch::Tensor> t{sums};
        comm->allreduce_sum(t);
        i = 0;
        for (auto& [k, v] : window) v = t[0][static_cast<std::int64_t>(i++)].item<double>() / world;
      }
      const auto now = std::chrono::steady_clock::now();
      const double dt = std::chrono::duration<double>(now - window_start).count();
      nlohmann::json line{{"step", step_},
                          {"lr", options_.schedule.lr * options_.schedule.factor(step_ - 1)},
                          {"grad_norm", grad_norm_sum / window_n},
                          {"samples_per_s", dt > 0 ? window_n * options_.loader.batch_size / dt : 0.0},
                          {"elapsed_s", std::chrono::duration<double>(now - run_start).count()}};
      if (comm != nullptr) {
        line["world_size"] = world;
        line["allreduce_bytes"] = comm->gradient_bytes();
      }
      std::map<std::string, double> means;
      for (const auto& [k, v] : window) line[k] = means[k] = v / window_n;
      if (result.first_losses.empty()) result.first_losses = means;
      result.last_losses = means;
      metrics.push_back(line);
      if (root) write_metrics(result.metrics, metrics);
      window.clear();
      window_n = 0;
      grad_norm_sum = 0;
      window_start = now;
    }
    if (options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0 && step_ < end && root)
      save_checkpoint(result.checkpoint);
  }
  if (progress) progress->finish();
  if (root) {
    save_checkpoint(result.checkpoint);
    write_metrics(result.metrics, metrics);
    plot_losses(result.metrics, result.plot);
  }
  if (comm != nullptr) comm->barrier("finished");
  result.end_step = step_;
  return result;
}

std::string config_fingerprint(const core::Config& config) {
  YAML::Node root = YAML::Load(config.dump());
  if (root["train"] && root["train"].IsMap())
    for (const char* k : {"stop_after", "resume", "workers", "prefetch", "log_every", "checkpoint_every", "device",
                          "bf16", "distributed", "show_progress"})
      root["train"].remove(k);
  root.remove("threads");  // how fast a run goes, not what it learns
  YAML::Emitter out;
  out << root;
  std::uint64_t h = 1469598103934665603ULL;
  for (const char ch : std::string(out.c_str())) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

bool plot_losses(const fs::path& metrics_jsonl, const fs::path& png) {
  const auto lines = read_metrics(metrics_jsonl, std::numeric_limits<std::int64_t>::max());
  std::map<std::string, std::vector<cv::Point2d>> series;
  for (const auto& j : lines)
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key().rfind("loss", 0) == 0 && it.value().is_number())
        series[it.key()].push_back({j["step"].get<double>(), it.value().get<double>()});
  if (series.empty()) return false;
  double x0 = 1e300, x1 = -1e300, y1 = 0;
  for (const auto& [k, pts] : series)
    for (const auto& p : pts) x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= 0) y1 = 1;
  const int W = 900, H = 500, L = 70, R = 220, T = 30, B = 50;
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  auto to_px = [&](const cv::Point2d& p) {
    return cv::Point(static_cast<int>(L + (p.x - x0) / (x1 - x0) * (W - L - R)),
                     static_cast<int>(H - B - p.y / y1 * (H - T - B)));
  };
  cv::rectangle(img, {L, T}, {W - R, H - B}, cv::Scalar(0, 0, 0), 1);
  for (int i = 0; i <= 4; ++i) {
    const double v = y1 * i / 4;
    const int y = to_px({x0, v}).y;
    cv::line(img, {L - 4, y}, {L, y}, cv::Scalar(0, 0, 0));
    std::ostringstream os;
    os.precision(3);
    os << v;
    cv::putText(img, os.str(), {5, y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0));
  }
  cv::putText(img, core::cat("step ", static_cast<long long>(x0)), {L, H - 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
              cv::Scalar(0, 0, 0));
  cv::putText(img, core::cat(static_cast<long long>(x1)), {W - R - 40, H - 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
              cv::Scalar(0, 0, 0));
  const cv::Scalar colours[] = {{0, 0, 0}, {200, 60, 20}, {30, 140, 30}, {20, 20, 200}, {160, 30, 160}, {20, 160, 200}};
  int i = 0;
  for (const auto& [k, pts] : series) {
    const cv::Scalar col = colours[i % 6];
    std::vector<cv::Point> px;
    for (const auto& p : pts) px.push_back(to_px(p));
    cv::polylines(img, px, false, col, k == "loss" ? 2 : 1, cv::LINE_AA);
    cv::putText(img, k, {W - R + 10, T + 20 + 20 * i}, cv::FONT_HERSHEY_SIMPLEX, 0.5, col, 1, cv::LINE_AA);
    ++i;
  }
  std::vector<uchar> buf;
  cv::imencode(".png", img, buf);
  core::write_file_atomic(png, std::string(buf.begin(), buf.end()));
  return true;
}

}  // namespace xraylift::train
