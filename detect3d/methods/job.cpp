// The detect3d job (config sections), the predictor of one method, and view loading (docs/detect3d.md).
#include "xraylift/detect3d/job.hpp"

#include <chrono>

#include "xraylift/core/error.hpp"
#include "xraylift/core/view_set.hpp"

namespace xraylift::detect3d {

Detect3DJob Detect3DJob::from_config(const core::Config& config) {
  Detect3DJob job;
  job.model = detect2d::ModelConfig::from_config(config.section("model"));
  job.data = detect2d::ViewDataOptions::from_config(config.section("data"));
  const auto d3 = config.section("detect3d");
  job.method = d3.get<std::string>("method", job.method);
  method_spec(job.method, d3.origin("method"));
  if (d3.has("scene")) job.scene = SceneRange::from_config(d3.section("scene"));
  for (const auto& spec : registered_methods())
    job.method_options[spec.name] =
        spec.parse(d3.has(spec.name) ? d3.section(spec.name) : core::Config(), job.scene, d3);
  job.trainer = train::TrainerOptions::from_config(config.section("train"));
  return job;
}

std::unique_ptr<Method> Detect3DJob::make_method(const std::string& name) const {
  const auto& spec = method_spec(name, "detect3d job");
  const auto it = method_options.find(name);
  const std::any options = it != method_options.end() ? it->second : spec.parse(core::Config(), scene, core::Config());
  return spec.make(model, options);
}

Predictor::Predictor(const Detect3DJob& job, const std::string& method, const std::filesystem::path& weights,
                     const torch::Device& device)
    : method_(job.make_method(method)), device_(device), weights_(weights) {
  rig_ = load_method_weights(weights, *method_, WeightsUse::kPredict);
  method_->module()->to(device);
  method_->module()->eval();
}

CasePrediction Predictor::predict(const CaseViews& views) {
  views.validate();
  core::check_rig(rig_, views.cameras, core::cat(views.origin, " vs weights '", weights_.string(), "'"));
  const auto t0 = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  CaseViews on_device = views;
  on_device.images = views.images.to(device_);
  CasePrediction p = method_->predict(on_device);
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

LoadedViews load_views(const std::filesystem::path& infos, const detect2d::ViewDataOptions& options) {
  const auto set = core::read_view_set(infos);
  XL_CHECK(!set.views.empty(), infos.string(), ": the view set has no views (empty case)");
  LoadedViews out;
  out.case_id = set.case_id;
  out.truth = set.boxes_3d;
  std::vector<torch::Tensor> images;
  for (const auto& v : set.views) {
    const auto& first = set.views.front().camera;
    XL_CHECK(v.camera.width() == first.width() && v.camera.height() == first.height(), infos.string(), ": view '",
             v.camera.name(), "' is ", v.camera.width(), " x ", v.camera.height(), " px but view '", first.name(),
             "' is ", first.width(), " x ", first.height(), " (mismatched image sizes)");
    images.push_back(detect2d::load_view_image(infos.parent_path(), v, options));
    out.cameras.push_back(v.camera);
  }
  out.images = torch::stack(images);
  return out;
}

}  // namespace xraylift::detect3d
