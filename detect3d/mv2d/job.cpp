#include "xraylift/detect3d/job.hpp"

#include <algorithm>
#include <chrono>

#include "xraylift/core/error.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/detect3d/case_data.hpp"

namespace xraylift::detect3d {

Method parse_method(const std::string& name, const std::string& origin) {
  if (name == "mv2d") return Method::kMv2d;
  if (name == "triangulate") return Method::kTriangulate;
  throw core::ConfigError(core::cat("detect3d.method must be mv2d or triangulate, got '", name, "' (", origin, ")"));
}

const char* to_string(Method m) { return m == Method::kMv2d ? "mv2d" : "triangulate"; }

Detect3DJob Detect3DJob::from_config(const core::Config& config) {
  Detect3DJob job;
  job.model = detect2d::ModelConfig::from_config(config.section("model"));
  job.data = detect2d::ViewDataOptions::from_config(config.section("data"));
  const auto d3 = config.section("detect3d");
  job.method = parse_method(d3.get<std::string>("method", "mv2d"), d3.origin("method"));
  job.mv2d = Mv2dConfig::from_config(d3.section("mv2d"));
  job.triangulate = TriangulateOptions::from_config(d3.section("triangulate"));
  job.trainer = train::TrainerOptions::from_config(config.section("train"));
  return job;
}

train::LossFunction make_mv2d_loss_function(Mv2dModel model, torch::Device device) {
  return [model, device](const train::Batch& batch) mutable {
    XL_CHECK(!batch.empty(), "mv2d: empty batch");
    std::map<std::string, torch::Tensor> sum;
    for (const auto& sample : batch) {
      const auto in = case_inputs(sample, device);
      auto l = model->losses(in.images, in.cameras, in.targets, in.truth_3d, in.ignore_3d);
      for (auto& [k, v] : l) sum[k] = sum.count(k) ? sum[k] + v : v;
    }
    for (auto& [k, v] : sum) v = v / double(batch.size());
    return sum;
  };
}

Predictor::Predictor(const Detect3DJob& job, const std::filesystem::path& weights, const torch::Device& device)
    : job_(job), device_(device), weights_(weights) {
  model_ = Mv2dModel(job.model, job.mv2d);
  rig_ = load_mv2d_weights(weights, model_, job.method == Method::kMv2d);
  model_->to(device);
  model_->eval();
}

CasePrediction Predictor::predict(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                                  const std::string& origin) {
  return predict(images, cameras, job_.method, origin);
}

CasePrediction Predictor::predict(const torch::Tensor& images, const std::vector<core::Camera>& cameras, Method method,
                                  const std::string& origin, const std::vector<std::vector<core::Box2D>>* oracle_2d) {
  XL_CHECK(!cameras.empty(), origin, ": no views (a case needs cameras and images)");
  check_rig(rig_, cameras, core::cat(origin, " vs weights '", weights_.string(), "'"));
  const auto t0 = std::chrono::steady_clock::now();
  CasePrediction p;
  torch::NoGradGuard no_grad;
  const auto x = images.to(device_);
  XL_CHECK(!oracle_2d || oracle_2d->size() == cameras.size(), origin, ": oracle boxes for ",
           oracle_2d ? oracle_2d->size() : 0, " views, the case has ", cameras.size());
  std::vector<torch::Tensor> oracle_rois;
  if (oracle_2d)
    for (const auto& boxes : *oracle_2d) oracle_rois.push_back(detect2d::box_tensor(boxes));
  if (method == Method::kMv2d) {
    auto r = model_->predict(x, cameras, oracle_2d ? &oracle_rois : nullptr);
    p.boxes = std::move(r.boxes);
    p.detections = std::move(r.detections);
  } else {
    const auto out = model_->detector->detect(x);
    std::vector<ViewDetections> views;
    for (std::size_t v = 0; v < cameras.size(); ++v) {
      const auto& d = out.detections[v];
      detect2d::Detections cpu;
      cpu.boxes = d.boxes.to(torch::kCPU, torch::kFloat).contiguous();
      cpu.scores = d.scores.to(torch::kCPU, torch::kFloat).contiguous();
      cpu.labels = d.labels.to(torch::kCPU);
      if (oracle_2d) {
        cpu.boxes = oracle_rois[v];
        cpu.scores = torch::ones({oracle_rois[v].size(0)});
        cpu.labels = torch::ones({oracle_rois[v].size(0)}, torch::kLong);
      }
      ViewDetections vd{cameras[v], {}, {}};
      const auto b = cpu.boxes.accessor<float, 2>();
      const auto s = cpu.scores.accessor<float, 1>();
      for (int64_t i = 0; i < cpu.boxes.size(0); ++i) {
        const core::Box2D box{b[i][0], b[i][1], b[i][2], b[i][3]};
        if (box.empty()) continue;
        vd.boxes.push_back(box);
        vd.scores.push_back(std::clamp(double(s[i]), 0.0, 1.0));
      }
      views.push_back(std::move(vd));
      p.detections.push_back(cpu);
    }
    p.boxes = triangulate(views, job_.triangulate);
  }
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
