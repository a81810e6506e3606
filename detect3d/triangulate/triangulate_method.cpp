// `triangulate`: geometry-only 3D boxes from the 2D detector's boxes (detect3d/src/triangulate.cpp,
// docs/detect3d.md "triangulate"), registered as a 3D method. No parameters of its own: any weights file that holds
// the 2D detector serves it.
#include <algorithm>

#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect3d/method.hpp"
#include "xraylift/detect3d/triangulate.hpp"

namespace xraylift::detect3d {

namespace {

class TriangulateMethod : public Method {
 public:
  TriangulateMethod(const detect2d::ModelConfig& model, const TriangulateOptions& options)
      : Method("triangulate"), detector_(detect2d::FasterRCNN(model)), options_(options) {}

  std::shared_ptr<torch::nn::Module> module() const override { return detector_.ptr(); }
  std::vector<std::string> own_prefixes() const override { return {}; }

  CasePrediction predict(const CaseViews& in) override {
    CasePrediction p;
    const auto out = detector_->detect(in.images);
    std::vector<ViewDetections> views;
    for (std::size_t v = 0; v < in.cameras.size(); ++v) {
      detect2d::Detections cpu;
      if (in.oracle_2d) {
        const auto n = static_cast<int64_t>((*in.oracle_2d)[v].size());
        cpu.boxes = detect2d::box_tensor((*in.oracle_2d)[v]);
        cpu.scores = torch::ones({n});
        cpu.labels = torch::ones({n}, torch::kLong);
      } else {
        const auto& d = out.detections[v];
        cpu.boxes = d.boxes.to(torch::kCPU, torch::kFloat).contiguous();
        cpu.scores = d.scores.to(torch::kCPU, torch::kFloat).contiguous();
        cpu.labels = d.labels.to(torch::kCPU);
      }
      ViewDetections vd{in.cameras[v], {}, {}};
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
    p.boxes = triangulate(views, options_);
    return p;
  }

 private:
  detect2d::FasterRCNN detector_;
  TriangulateOptions options_;
};

MethodSpec triangulate_spec() {
  MethodSpec s;
  s.name = "triangulate";
  s.summary = "geometry only: rays of the 2D detections associated across views, least-squares centre, fitted box";
  s.trainable = false;
  s.parse = [](const core::Config& section, const SceneRange& scene, const core::Config&) -> std::any {
    return TriangulateOptions::from_config(section, scene);
  };
  s.make = [](const detect2d::ModelConfig& model, const std::any& options) -> std::unique_ptr<Method> {
    return std::make_unique<TriangulateMethod>(model, std::any_cast<const TriangulateOptions&>(options));
  };
  return s;
}

}  // namespace

XL_REGISTER_METHOD(triangulate_spec());

}  // namespace xraylift::detect3d
