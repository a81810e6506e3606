#include "xraylift/detect2d/training.hpp"

#include <optional>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect2d/on_the_fly.hpp"
#include "xraylift/detect2d/weights.hpp"
#include "xraylift/train/distributed.hpp"

namespace fs = std::filesystem;

namespace xraylift::detect2d {

namespace {

// The rendered or generated view sets to train on (rank 0 writes the synthetic set, the others wait for it).
std::vector<fs::path> view_set_inputs(const Detect2DJob& job, const train::RunRequest& request) {
  if (!request.data.empty()) return request.data;
  if (job.synthetic_cases <= 0) throw core::InputError("no --data given and the config has no data.synthetic section");
  const fs::path root = request.out / "synthetic";
  std::vector<fs::path> inputs;
  if (train::is_root(job.trainer))
    inputs = write_synthetic_view_sets(root, job.synthetic_cases, job.synthetic_views, job.synthetic_size,
                                       job.synthetic_seed);
  if (job.trainer.comm) job.trainer.comm->barrier("synthetic");
  if (!train::is_root(job.trainer)) return {root};
  core::log::info("generated ", inputs.size(), " synthetic view sets under ", root.string());
  return inputs;
}

}  // namespace

int train_detector(const core::Config& cfg, const train::RunRequest& request) {
  auto job = Detect2DJob::from_config(cfg);
  auto otf = on_the_fly_options(cfg);
  std::optional<core::Rig> rig;
  if (otf) rig = core::Rig::from_config(cfg.section("rig"));
  train::prepare_run(job.trainer, request.out, cfg);
  follow_trainer_device(otf, job.trainer.device);
  return train::run_publishing_failures(job.trainer, [&] {
    std::unique_ptr<train::Dataset> data;
    if (otf) {
      if (!request.data.empty())
        throw core::ConfigError("train: give either --data (rendered views) or data.on_the_fly, not both");
      otf->per_view = true;  // detect2d trains on single views
      data = std::make_unique<OnTheFlyDataset>(*otf, *rig);
    } else {
      data = std::make_unique<ViewSetDataset>(view_set_inputs(job, request), job.data);
    }
    train::write_run_config(job.trainer, request.out, cfg);
    torch::manual_seed(job.trainer.seed);
    FasterRCNN model(job.model);
    if (!request.initial_weights.empty()) load_weights(*model, request.initial_weights);
    train::Trainer trainer(job.trainer, model.ptr(), make_loss_function(model, torch::Device(job.trainer.device)));
    core::log::info("training on ", data->size(), " views for ", job.trainer.schedule.total_steps, " steps (",
                    job.trainer.device, ")");
    const auto result = trainer.fit(*data);
    if (otf) log_cache_stats(static_cast<const OnTheFlyDataset&>(*data));
    if (!train::is_root(job.trainer)) return 0;
    // Data only, by name (a TorchScript archive, as torch::save of the module wrote, carries code that a reader
    // compiles; docs/RELIABILITY.md).
    const fs::path weights = request.out / "model.safetensors";
    std::map<std::string, torch::Tensor> state;
    for (const auto& p : model->named_parameters(true)) state[p.key()] = p.value().detach();
    for (const auto& b : model->named_buffers(true)) state[b.key()] = b.value().detach();
    write_safetensors(weights, state);
    train::log_run_outputs(result, weights, "weights by name (xraylift detect2d --weights, train --weights)");
    return 0;
  });
}

}  // namespace xraylift::detect2d
