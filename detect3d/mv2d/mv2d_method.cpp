// `mv2d`: the MV2D-S head on detect2d's detections (docs/detect3d.md "MV2D"), registered as a 3D method.
#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/detect3d/method.hpp"
#include "xraylift/detect3d/mv2d.hpp"

namespace xraylift::detect3d {

namespace {

class Mv2dMethod : public Method {
 public:
  Mv2dMethod(const detect2d::ModelConfig& model, const Mv2dConfig& config)
      : Method("mv2d"), model_(Mv2dModel(model, config)) {}

  std::shared_ptr<torch::nn::Module> module() const override { return model_.ptr(); }
  std::vector<std::string> own_prefixes() const override { return {"head3d."}; }

  CasePrediction predict(const CaseViews& views) override {
    std::vector<torch::Tensor> oracle;
    if (views.oracle_2d)
      for (const auto& boxes : *views.oracle_2d) oracle.push_back(detect2d::box_tensor(boxes));
    auto r = model_->predict(views.images, views.cameras, views.oracle_2d ? &oracle : nullptr);
    CasePrediction p;
    p.boxes = std::move(r.boxes);
    p.detections = std::move(r.detections);
    return p;
  }

  train::LossFunction loss_function(const torch::Device& device) override {
    return [model = model_, device](const train::Batch& batch) mutable {
      XL_CHECK(!batch.empty(), "mv2d: empty batch");
      std::map<std::string, torch::Tensor> sum;
      for (const auto& sample : batch) {
        const auto in = detect2d::case_inputs(sample, device);
        auto l = model->losses(in.images, in.cameras, in.targets, in.truth_3d, in.ignore_3d);
        for (auto& [k, v] : l) sum[k] = sum.count(k) ? sum[k] + v : v;
      }
      for (auto& [k, v] : sum) v = v / double(batch.size());
      return sum;
    };
  }

 private:
  Mv2dModel model_;
};

MethodSpec mv2d_spec() {
  MethodSpec s;
  s.name = "mv2d";
  s.summary = "MV2D-S: one object query per 2D detection, transformer decoder over the views, Hungarian-matched head";
  s.trainable = true;
  s.parse = [](const core::Config& section, const SceneRange& scene) -> std::any {
    Mv2dConfig c = Mv2dConfig::from_config(section);
    c.range = scene;
    c.validate();
    return c;
  };
  s.make = [](const detect2d::ModelConfig& model, const std::any& options) -> std::unique_ptr<Method> {
    return std::make_unique<Mv2dMethod>(model, std::any_cast<const Mv2dConfig&>(options));
  };
  return s;
}

}  // namespace

XL_REGISTER_METHOD(mv2d_spec());

}  // namespace xraylift::detect3d
