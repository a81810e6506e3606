// `fusion`: the voxel detector over the ten views (docs/detect3d.md "fusion"), registered as a 3D method: per-view
// detect2d features lifted into the scene's voxel grid, decided by a 3D CNN. It has no 2D stage: its per-view
// detections are empty.
#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/detect3d/fusion/model.hpp"
#include "xraylift/detect3d/method.hpp"

namespace xraylift::detect3d::fusion {

namespace {

// The case sample's 3D truth ([G, 6] centre + size mm, ignore [G]) as the records the targets are made from.
std::vector<core::BoxRecord> truth_records(const torch::Tensor& truth, const torch::Tensor& ignore) {
  std::vector<core::BoxRecord> out;
  if (!truth.defined() || truth.numel() == 0) return out;
  const auto t = truth.to(torch::kCPU, torch::kDouble).contiguous();
  const auto ig =
      ignore.defined() ? ignore.to(torch::kCPU, torch::kBool).contiguous() : torch::zeros({t.size(0)}, torch::kBool);
  const auto a = t.accessor<double, 2>();
  const auto ia = ig.accessor<bool, 1>();
  for (int64_t g = 0; g < t.size(0); ++g) {
    core::BoxRecord r;
    r.box.center = Eigen::Vector3d(a[g][0], a[g][1], a[g][2]);
    r.box.size = Eigen::Vector3d(a[g][3], a[g][4], a[g][5]);
    r.ignore = ia[g];
    out.push_back(r);
  }
  return out;
}

class FusionMethod : public Method {
 public:
  FusionMethod(const detect2d::ModelConfig& model, const FusionConfig& config)
      : Method("fusion"), model_(FusionModel(model, config)) {}

  bool gives_evidence() const override { return true; }
  std::shared_ptr<torch::nn::Module> module() const override { return model_.ptr(); }
  std::vector<std::string> own_prefixes() const override {
    std::vector<std::string> own;
    for (const auto& child : model_->named_children())
      if (child.key() != "backbone") own.push_back(child.key() + ".");
    return own;
  }

  CasePrediction predict(const CaseViews& views) override {
    if (views.oracle_2d)
      throw core::ConfigError("--oracle-2d: the fusion method has no 2D stage to replace (it decides in 3D)");
    CasePrediction p;
    const auto out = model_->forward(views.images, views.cameras);
    p.boxes = model_->decode(out);
    p.evidence = heatmap_volume(out);
    for (std::size_t v = 0; v < views.cameras.size(); ++v) {
      detect2d::Detections none;
      none.boxes = torch::zeros({0, 4});
      none.scores = torch::zeros({0});
      none.labels = torch::zeros({0}, torch::kLong);
      p.detections.push_back(none);
    }
    return p;
  }

  train::LossFunction loss_function(const torch::Device& device) override {
    return [model = model_, device](const train::Batch& batch) mutable {
      XL_CHECK(!batch.empty(), "fusion: empty batch");
      std::vector<FusionModelImpl::CropCase> cases;
      for (const auto& sample : batch) {
        auto in = detect2d::case_inputs(sample, device);
        cases.push_back({in.images, in.cameras, truth_records(in.truth_3d, in.ignore_3d)});
      }
      // The batch's crops through the network in one pass (forward_crops: equal to one pass per case, faster).
      const auto outputs = model->forward_crops(cases);
      std::map<std::string, torch::Tensor> sum;
      for (std::size_t b = 0; b < cases.size(); ++b)
        for (auto& [k, v] : model->losses(outputs[b], cases[b].truths)) sum[k] = sum.count(k) ? sum[k] + v : v;
      for (auto& [k, v] : sum) v = v / double(batch.size());
      return sum;
    };
  }

 private:
  FusionModel model_;
};

MethodSpec fusion_spec() {
  MethodSpec s;
  s.name = "fusion";
  s.summary = "voxel detector: per-view features lifted into the scene grid, a 3D CNN decides (CenterPoint heads)";
  s.trainable = true;
  s.parse = [](const core::Config& section, const SceneRange& scene, const core::Config&) -> std::any {
    return FusionConfig::from_config(section, scene);
  };
  s.make = [](const detect2d::ModelConfig& model, const std::any& options) -> std::unique_ptr<Method> {
    return std::make_unique<FusionMethod>(model, std::any_cast<const FusionConfig&>(options));
  };
  return s;
}

}  // namespace

std::vector<core::BoxRecord> fused_candidates(FusionModel& model, const torch::Tensor& images,
                                              const std::vector<core::Camera>& cameras, core::VolumeF* evidence) {
  const bool training = model->is_training();
  model->eval();  // also keeps a fixed encoder's lifted-feature cache (a training-mode cache) out of it
  torch::NoGradGuard no_grad;
  std::vector<core::BoxRecord> boxes;
  try {
    const auto out = model->forward(images, cameras);
    boxes = model->decode(out);
    if (evidence) *evidence = heatmap_volume(out);
  } catch (...) {
    model->train(training);
    throw;
  }
  model->train(training);
  return boxes;
}

XL_REGISTER_METHOD(fusion_spec());

}  // namespace xraylift::detect3d::fusion
