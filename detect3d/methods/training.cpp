// `task: detect3d` of `xraylift train`: the configured method on case samples (docs/detect3d.md "Training").
#include <optional>

#include "xraylift/core/log.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/detect2d/on_the_fly.hpp"
#include "xraylift/detect3d/job.hpp"

namespace fs = std::filesystem;

namespace xraylift::detect3d {

int train_method(const core::Config& cfg, const train::RunRequest& request) {
  auto job = Detect3DJob::from_config(cfg);
  const auto& spec = method_spec(job.method, cfg.origin("detect3d.method"));
  std::optional<core::Rig> rig;
  if (cfg.has("rig")) rig = core::Rig::from_config(cfg.section("rig"));
  auto otf = detect2d::on_the_fly_options(cfg);
  // Before any data is read: a method without parameters of its own has nothing to train here (its ConfigError).
  if (!spec.trainable) job.make_method(job.method)->loss_function(torch::Device(job.trainer.device));
  train::prepare_run(job.trainer, request.out, cfg);
  detect2d::follow_trainer_device(otf, job.trainer.device);
  return train::run_publishing_failures(job.trainer, [&] {
    std::unique_ptr<train::Dataset> data;
    std::vector<core::Camera> rig_cameras;
    if (otf) {
      if (!request.data.empty())
        throw core::ConfigError("train: give either --data (rendered views) or data.on_the_fly, not both");
      auto d = std::make_unique<detect2d::OnTheFlyDataset>(*otf, *rig);
      rig_cameras = rig->cameras();
      core::log::info("on-the-fly rendering of ", d->case_count(), " cases on ", otf->device);
      data = std::move(d);
    } else {
      if (request.data.empty())
        throw core::InputError("train: task detect3d needs --data (rendered view sets: infos.json files or folders)");
      auto cases = std::make_unique<detect2d::CaseDataset>(request.data, job.data);
      // Every case must come from one rig, the config's when it has one (the weights record it; predict refuses
      // another rig).
      std::vector<std::vector<core::Camera>> cameras;
      std::vector<std::string> ids;
      for (std::size_t i = 0; i < cases->size(); ++i) {
        cameras.push_back(cases->cameras(i));
        ids.push_back(cases->cases()[i].case_id);
      }
      core::check_training_rig(cameras, ids, rig ? core::trained_rig_of(rig->cameras()) : core::TrainedRig{},
                               cfg.origin("rig"));
      rig_cameras = cameras.front();
      data = std::move(cases);
    }
    train::write_run_config(job.trainer, request.out, cfg);
    torch::manual_seed(job.trainer.seed);
    const auto method = job.make_method(job.method);  // initial weights drawn from the seed
    const auto loss = method->loss_function(torch::Device(job.trainer.device));
    if (!request.initial_weights.empty()) {
      load_method_weights(request.initial_weights, *method, WeightsUse::kInitialize);
      core::log::info("initial weights from ", request.initial_weights.string());
    }
    train::Trainer trainer(job.trainer, method->module(), loss);
    core::log::info("training detect3d (", spec.name, ") on ", data->size(), " cases of ", rig_cameras.size(),
                    " views for ", job.trainer.schedule.total_steps, " steps (", job.trainer.device, ")");
    const auto result = trainer.fit(*data);
    if (otf) detect2d::log_cache_stats(static_cast<const detect2d::OnTheFlyDataset&>(*data));
    if (!train::is_root(job.trainer)) return 0;
    const fs::path weights = request.out / "model.safetensors";
    method->module()->to(torch::kCPU);
    save_method_weights(weights, *method, core::trained_rig_of(rig_cameras));
    train::log_run_outputs(result, weights, "weights by name + method + trained rig (xraylift predict --weights)");
    return 0;
  });
}

}  // namespace xraylift::detect3d
