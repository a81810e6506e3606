// `mv2d` and `mv2d_fusion`: the MV2D-S head (docs/detect3d.md "MV2D"), registered as 3D methods. `mv2d` is the
// official path by default (queries from detect2d's detections); `proposals.sources` adds or replaces them with the
// fusion model's 3D candidates (docs/detect3d.md "Proposal sources"). `mv2d_fusion` is the same method with the
// fused candidates as its default source and its own section and weights file (models/mv2d_fusion.safetensors),
// so the demo, the gate and the bench run and compare both (each registered method has one file of its own).
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/detect3d/fusion/model.hpp"
#include "xraylift/detect3d/method.hpp"
#include "xraylift/detect3d/mv2d.hpp"

namespace xraylift::detect3d {

namespace {

struct Mv2dOptions {
  Mv2dConfig head;
  std::optional<fusion::FusionConfig> fusion;  // with the "fusion" source: the `detect3d.fusion` section's model
};

// Fused candidates per training case: the fusion model is frozen and a case's views do not change between steps
// (no photometric augmentation in the recipes; the key includes the images' bytes so an augmented or re-rendered
// case is recomputed), so each case's candidates are computed once (~1.5 s on the CPU) and training steps cost the
// MV2D forward pass alone.
class CandidateCache {
 public:
  const std::vector<core::BoxRecord>& get(const std::string& key,
                                          const std::function<std::vector<core::BoxRecord>()>& make) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    auto boxes = make();
    std::lock_guard<std::mutex> lock(mutex_);
    return map_.emplace(key, std::move(boxes)).first->second;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<core::BoxRecord>> map_;
};

std::string case_key(const train::Sample& sample) {
  const auto bytes = [](const torch::Tensor& t) {
    const auto c = t.to(torch::kCPU).contiguous();
    return std::hash<std::string_view>{}(
        std::string_view(static_cast<const char*>(c.data_ptr()), static_cast<std::size_t>(c.nbytes())));
  };
  return core::cat(sample.id, "/", bytes(sample.at("image")), "/", bytes(sample.at("cameras")));
}

class Mv2dMethod : public Method {
 public:
  Mv2dMethod(const std::string& name, const detect2d::ModelConfig& model, const Mv2dOptions& options)
      : Method(name), model_(Mv2dModel(model, options.head)) {
    if (options.head.uses_source("fusion")) {
      XL_CHECK(options.fusion.has_value(), name, ": the fusion source without the fusion model's options");
      fusion_ = fusion::FusionModel(model, *options.fusion);
      // One module, so one weights file holds the detector, the head and the fusion model it starts from.
      model_->register_module("fusion", fusion_);
      for (auto& p : fusion_->parameters()) p.set_requires_grad(false);  // trained by the fusion method, not here
    }
  }

  // With the fused candidates, the fusion model's heatmap is where the method looked first (docs/viz.md "Evidence").
  bool gives_evidence() const override { return bool(fusion_); }
  std::shared_ptr<torch::nn::Module> module() const override { return model_.ptr(); }
  std::vector<std::string> own_prefixes() const override { return {"head3d."}; }
  std::vector<std::string> borrowed_prefixes() const override {
    return fusion_ ? std::vector<std::string>{"fusion."} : std::vector<std::string>{};
  }

  CasePrediction predict(const CaseViews& views) override {
    const auto& c = model_->head3d->config();
    if (views.oracle_2d && !c.uses_source("detect2d"))
      throw core::ConfigError(core::cat("--oracle-2d replaces the detect2d proposals, but ", c.section_name,
                                        ".proposals.sources has none (it is [fusion]): add detect2d to it"));
    std::vector<torch::Tensor> oracle;
    if (views.oracle_2d)
      for (const auto& boxes : *views.oracle_2d) oracle.push_back(detect2d::box_tensor(boxes));
    std::vector<core::BoxRecord> candidates;
    CasePrediction p;
    if (fusion_) candidates = fusion::fused_candidates(fusion_, views.images, views.cameras, &p.evidence);
    auto r = model_->predict(views.images, views.cameras, views.oracle_2d ? &oracle : nullptr,
                             fusion_ ? &candidates : nullptr);
    p.boxes = std::move(r.boxes);
    p.detections = std::move(r.detections);
    return p;
  }

  train::LossFunction loss_function(const torch::Device& device) override {
    auto cache = std::make_shared<CandidateCache>();
    return [model = model_, fusion = fusion_, cache, device](const train::Batch& batch) mutable {
      XL_CHECK(!batch.empty(), "mv2d: empty batch");
      std::map<std::string, torch::Tensor> sum;
      for (const auto& sample : batch) {
        const auto in = detect2d::case_inputs(sample, device);
        const std::vector<core::BoxRecord>* candidates = nullptr;
        if (fusion)
          candidates =
              &cache->get(case_key(sample), [&] { return fusion::fused_candidates(fusion, in.images, in.cameras); });
        auto l = model->losses(in.images, in.cameras, in.targets, in.truth_3d, in.ignore_3d, candidates);
        for (auto& [k, v] : l) sum[k] = sum.count(k) ? sum[k] + v : v;
      }
      for (auto& [k, v] : sum) v = v / double(batch.size());
      return sum;
    };
  }

 private:
  Mv2dModel model_;
  fusion::FusionModel fusion_{nullptr};
};

MethodSpec mv2d_spec(const std::string& name, const std::vector<std::string>& sources, const std::string& summary) {
  MethodSpec s;
  s.name = name;
  s.summary = summary;
  s.trainable = true;
  s.parse = [name, sources](const core::Config& section, const SceneRange& scene,
                            const core::Config& detect3d) -> std::any {
    Mv2dConfig defaults;
    defaults.proposal_sources = sources;
    defaults.section_name = "detect3d." + name;
    Mv2dOptions o;
    o.head = Mv2dConfig::from_config(section, defaults);
    o.head.range = scene;
    o.head.validate();
    // The fused candidates come from the fusion method's own model and options, so its weights serve both.
    if (o.head.uses_source("fusion"))
      o.fusion = fusion::FusionConfig::from_config(detect3d.has("fusion") ? detect3d.section("fusion") : core::Config(),
                                                   scene);
    return o;
  };
  s.make = [name](const detect2d::ModelConfig& model, const std::any& options) -> std::unique_ptr<Method> {
    return std::make_unique<Mv2dMethod>(name, model, std::any_cast<const Mv2dOptions&>(options));
  };
  return s;
}

}  // namespace

// Only the parsed head options of an mv2d-family method's options (tests and tools that inspect them).
const Mv2dConfig& mv2d_head_options(const std::any& options) { return std::any_cast<const Mv2dOptions&>(options).head; }

XL_REGISTER_METHOD(mv2d_spec("mv2d", {"detect2d"},
                             "MV2D-S: one object query per 2D detection, transformer decoder over the views, "
                             "Hungarian-matched head (proposals.sources adds fused 3D candidates)"));
XL_REGISTER_METHOD(mv2d_spec("mv2d_fusion", {"fusion"},
                             "MV2D-S on the fusion model's 3D candidates: each projected into every view as RoIs, "
                             "reference point at its centre, refined by the MV2D decoder"));

}  // namespace xraylift::detect3d
