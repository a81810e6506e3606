// `xraylift train --config configs/detect2d/tiny.yaml`: trains a model with the generic trainer (train/).
// The config's `task` picks the model: detect2d (Faster R-CNN on rendered views) or detect3d (the MV2D head trained
// jointly with the 2D detector, one case of ten views per step). Outputs in --out: checkpoint.pt (exact resume: run
// the same command again), model.pt (detect2d) or model.safetensors (detect3d, with the rig it was trained on),
// metrics.jsonl, loss.png, config.yaml. Data parallel: start one such process per rank with the torchrun variables
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); rank 0 writes the outputs (docs/ARCHITECTURE.md).
#include <filesystem>
#include <optional>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect2d/weights.hpp"
#include "xraylift/detect3d/case_data.hpp"
#include "xraylift/detect3d/job.hpp"
#include "xraylift/detect3d/on_the_fly.hpp"
#include "xraylift/train/trainer.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

struct Options {
  std::string out = "train-out";
  std::vector<std::string> data;
  std::string weights;
  std::unique_ptr<tools::ConfigOptions> config;
};

// Data parallel under torchrun-style variables (train/distributed.hpp): every rank runs this command; rank 0 writes.
// A plain `cuda` device becomes cuda:LOCAL_RANK (one GPU per rank on a node).
std::shared_ptr<train::Communicator> connect_ranks(train::TrainerOptions& t) {
  const auto env = train::DistEnv::from_env();
  if (!env.enabled()) return nullptr;
  if (t.device == "cuda") t.device = core::cat("cuda:", env.local_rank);
  return std::make_shared<train::Communicator>(env, t.distributed, t.device);
}

bool is_root(const train::TrainerOptions& t) { return t.comm == nullptr || t.comm->is_root(); }

// Runs `body`; when it throws on one rank, the others learn it (and stop naming it) before this one exits.
template <typename F>
int guarded(const train::TrainerOptions& t, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    if (t.comm) t.comm->publish_failure(e.what());
    throw;
  }
}

// data.on_the_fly (detect3d/on_the_fly.hpp): render every sample from case volumes through the jittered rig.
std::optional<detect3d::OnTheFlyOptions> on_the_fly_options(const core::Config& cfg) {
  if (!cfg.has("data.on_the_fly")) return std::nullopt;
  if (!cfg.has("rig"))
    throw core::ConfigError(
        core::cat("data.on_the_fly renders through the config's rig, but the config has no rig section (",
                  cfg.origin("data.on_the_fly"), ")"));
  return detect3d::OnTheFlyOptions::from_config(cfg.section("data"), cfg.section("rig"), cfg.section("drr"));
}

void log_cache(const detect3d::OnTheFlyDataset& d) {
  const auto st = d.cache_stats();
  core::log::info("on-the-fly volume cache: ", st.resident, " resident (", st.bytes / (1024 * 1024), " MiB), ", st.hits,
                  " hits, ", st.misses, " misses, ", st.evictions, " evictions");
}

std::vector<fs::path> data_inputs(const Options& opt) {
  std::vector<fs::path> inputs(opt.data.begin(), opt.data.end());
  if (inputs.empty())
    throw core::InputError("train: task detect3d needs --data (rendered view sets: infos.json files or folders)");
  return inputs;
}

// What both tasks do once every key is read: the output folder, the config fingerprint, the ranks, and the
// on-the-fly renderer on this rank's GPU.
void prepare_trainer(train::TrainerOptions& trainer, const fs::path& out, const core::Config& cfg,
                     std::optional<detect3d::OnTheFlyOptions>& otf) {
  cfg.check_no_unknown_keys();
  trainer.out_dir = out;
  tools::remove_stale_temporaries({(out / "checkpoint.pt").string()}, "train");  // a second Ctrl-C's leftovers
  trainer.config_fingerprint = train::config_fingerprint(cfg);
  trainer.comm = connect_ranks(trainer);
  if (otf && otf->device == "cuda") otf->device = trainer.device.rfind("cuda", 0) == 0 ? trainer.device : "cuda";
}

int train_detect3d(const Options& opt, core::Config& cfg) {
  auto job = detect3d::Detect3DJob::from_config(cfg);
  std::optional<core::Rig> rig;
  if (cfg.has("rig")) rig = core::Rig::from_config(cfg.section("rig"));
  auto otf = on_the_fly_options(cfg);
  const fs::path out(opt.out);
  prepare_trainer(job.trainer, out, cfg, otf);
  return guarded(job.trainer, [&] {
    std::unique_ptr<train::Dataset> data;
    std::vector<core::Camera> rig_cameras;
    if (otf) {
      if (!opt.data.empty())
        throw core::ConfigError("train: give either --data (rendered views) or data.on_the_fly, not both");
      auto d = std::make_unique<detect3d::OnTheFlyDataset>(*otf, *rig);
      rig_cameras = rig->cameras();
      core::log::info("on-the-fly rendering of ", d->case_count(), " cases on ", otf->device);
      data = std::move(d);
    } else {
      auto owned = std::make_unique<detect3d::CaseDataset>(data_inputs(opt), job.data);
      auto& dataset = *owned;
      rig_cameras = dataset.cameras(0);
      // Every case must come from the config's rig (the weights record it; predict refuses another rig).
      for (std::size_t i = 0; i < dataset.size(); ++i) {
        const auto cams = dataset.cameras(i);
        const auto& id = dataset.cases()[i].case_id;
        detect3d::check_rig(detect3d::trained_rig_of(rig_cameras), cams, core::cat("train: case '", id, "'"), 1.0,
                            "the first case has");
        if (rig)
          detect3d::check_rig(detect3d::trained_rig_of(rig->cameras()), cams, core::cat("train: case '", id, "'"), 1.0,
                              core::cat("the config's rig (", cfg.origin("rig"), ") has"));
      }
      data = std::move(owned);
    }
    const train::Dataset& dataset = *data;
    if (is_root(job.trainer)) core::write_file_atomic(out / "config.yaml", cfg.dump());
    torch::manual_seed(job.trainer.seed);
    detect3d::Mv2dModel model(job.model, job.mv2d);
    if (!opt.weights.empty()) {
      detect3d::load_mv2d_weights(opt.weights, model, false);
      core::log::info("initial weights from ", opt.weights);
    }
    train::Trainer trainer(job.trainer, model.ptr(),
                           detect3d::make_mv2d_loss_function(model, torch::Device(job.trainer.device)));
    core::log::info("training detect3d (mv2d) on ", dataset.size(), " cases of ", rig_cameras.size(), " views for ",
                    job.trainer.schedule.total_steps, " steps (", job.trainer.device, ")");
    const auto result = trainer.fit(dataset);
    if (otf) log_cache(static_cast<const detect3d::OnTheFlyDataset&>(dataset));
    if (!is_root(job.trainer)) return 0;
    const fs::path weights = out / "model.safetensors";
    model->to(torch::kCPU);
    detect3d::save_mv2d_weights(weights, model, detect3d::trained_rig_of(rig_cameras));
    if (!result.first_losses.empty())
      core::log::info("loss ", result.first_losses.at("loss"), " -> ", result.last_losses.at("loss"), " (steps ",
                      result.start_step, " -> ", result.end_step, ")");
    core::log::info("outputs:");
    core::log::info("  ", result.checkpoint.string(), "  checkpoint (resume: run the same command again)");
    core::log::info("  ", weights.string(), "  weights by name + trained rig (xraylift predict --weights)");
    core::log::info("  ", result.metrics.string(), ", ", result.plot.string(), "  metrics and loss plot");
    return 0;
  });
}

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("-o,--out", opt->out, "Output folder (checkpoint, weights, metrics, plot)")->capture_default_str();
  app.add_option("-d,--data", opt->data,
                 "View-set folders or infos.json files (DRR outputs); default: the config's data.synthetic set");
  app.add_option("--weights", opt->weights, "Initial weights by parameter name (.safetensors or torch archive)");
  opt->config = std::make_unique<tools::ConfigOptions>(app, "", true);
  return [opt] {
    core::Config cfg = opt->config->load();
    const std::string task = cfg.get<std::string>("task", "detect2d");
    if (task == "detect3d") return train_detect3d(*opt, cfg);
    if (task != "detect2d")
      throw core::ConfigError(
          core::cat("task must be detect2d or detect3d, got '", task, "' (", cfg.origin("task"), ")"));
    auto job = detect2d::Detect2DJob::from_config(cfg);
    auto otf = on_the_fly_options(cfg);
    std::optional<core::Rig> rig;
    if (otf) rig = core::Rig::from_config(cfg.section("rig"));
    const fs::path out(opt->out);
    prepare_trainer(job.trainer, out, cfg, otf);
    return guarded(job.trainer, [&] {
      std::vector<fs::path> inputs(opt->data.begin(), opt->data.end());
      std::unique_ptr<train::Dataset> data;
      if (otf) {
        if (!inputs.empty())
          throw core::ConfigError("train: give either --data (rendered views) or data.on_the_fly, not both");
        otf->per_view = true;  // detect2d trains on single views
        data = std::make_unique<detect3d::OnTheFlyDataset>(*otf, *rig);
      } else if (inputs.empty()) {
        if (job.synthetic_cases <= 0)
          throw core::InputError("no --data given and the config has no data.synthetic section");
        // Rank 0 writes the synthetic set (deterministic from the seed), the others wait for it.
        if (is_root(job.trainer))
          inputs = detect2d::write_synthetic_view_sets(out / "synthetic", job.synthetic_cases, job.synthetic_views,
                                                       job.synthetic_size, job.synthetic_seed);
        if (job.trainer.comm) job.trainer.comm->barrier("synthetic");
        if (!is_root(job.trainer))
          inputs = {out / "synthetic"};
        else
          core::log::info("generated ", inputs.size(), " synthetic view sets under ", (out / "synthetic").string());
      }
      if (!data) data = std::make_unique<detect2d::ViewSetDataset>(inputs, job.data);
      const train::Dataset& dataset = *data;
      if (is_root(job.trainer)) core::write_file_atomic(out / "config.yaml", cfg.dump());
      torch::manual_seed(job.trainer.seed);
      detect2d::FasterRCNN model(job.model);
      if (!opt->weights.empty()) detect2d::load_weights(*model, opt->weights);
      train::Trainer trainer(job.trainer, model.ptr(),
                             detect2d::make_loss_function(model, torch::Device(job.trainer.device)));
      core::log::info("training on ", dataset.size(), " views for ", job.trainer.schedule.total_steps, " steps (",
                      job.trainer.device, ")");
      const auto result = trainer.fit(dataset);
      if (otf) log_cache(static_cast<const detect3d::OnTheFlyDataset&>(dataset));
      if (!is_root(job.trainer)) return 0;
      const fs::path weights = out / "model.pt";
      {
        model->to(torch::kCPU);
        const fs::path temp = core::temp_path_for(weights);
        torch::save(model, temp.string());
        core::commit_temp_file(temp, weights);
      }
      if (!result.first_losses.empty())
        core::log::info("loss ", result.first_losses.at("loss"), " -> ", result.last_losses.at("loss"), " (steps ",
                        result.start_step, " -> ", result.end_step, ")");
      core::log::info("wrote ", result.checkpoint.string(), " (resume: run the same command again)");
      core::log::info("wrote ", weights.string(), " (weights by name)");
      core::log::info("wrote ", result.metrics.string(), " and ", result.plot.string());
      return 0;
    });
  };
}

}  // namespace

XL_REGISTER_COMMAND("train", "Train a model (detect2d, or detect3d jointly with it) from a config, with exact resume",
                    setup);
