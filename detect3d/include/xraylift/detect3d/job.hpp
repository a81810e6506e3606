#pragma once
// Everything a detect3d run reads from its config (configs/detect3d/*.yaml) and the one predictor behind both
// methods:
//   task: detect3d
//   model: {...}        detect2d's Faster R-CNN (detect2d::ModelConfig)
//   data: {...}         detect2d::ViewDataOptions (window, box filter)
//   detect3d: {method: mv2d | triangulate, mv2d: {...}, triangulate: {...}}
//   train: {...}        train::TrainerOptions (batch_size 1 case per step)
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect3d/mv2d.hpp"
#include "xraylift/detect3d/triangulate.hpp"
#include "xraylift/train/trainer.hpp"

namespace xraylift::detect3d {

enum class Method { kMv2d, kTriangulate };
Method parse_method(const std::string& name, const std::string& origin);  // ConfigError otherwise
const char* to_string(Method m);

struct Detect3DJob {
  detect2d::ModelConfig model;
  detect2d::ViewDataOptions data;
  Method method = Method::kMv2d;
  Mv2dConfig mv2d;
  TriangulateOptions triangulate;
  train::TrainerOptions trainer;
  static Detect3DJob from_config(const core::Config& config);  // reads every section above
};

// The trainer's loss function: each batch entry is one case (CaseDataset sample); losses are averaged over cases.
train::LossFunction make_mv2d_loss_function(Mv2dModel model, torch::Device device);

struct CasePrediction {
  std::vector<core::BoxRecord> boxes;            // world mm, kPrediction
  std::vector<detect2d::Detections> detections;  // per view (CPU)
  double seconds = 0;                            // 2D + 3D inference
};

// Runs the 2D detector and the configured 3D method on one case's views.
class Predictor {
 public:
  // weights: a detect3d safetensors file (or, for triangulate, a detect2d weights file).
  Predictor(const Detect3DJob& job, const std::filesystem::path& weights, const torch::Device& device);
  // images [V, 1, H, W] in [0, 1]; checks the rig the weights were trained on (origin names the input).
  CasePrediction predict(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                         const std::string& origin);
  // oracle_2d (per view): boxes that replace the 2D detections (score 1), to measure the 3D stage alone.
  CasePrediction predict(const torch::Tensor& images, const std::vector<core::Camera>& cameras, Method method,
                         const std::string& origin, const std::vector<std::vector<core::Box2D>>* oracle_2d = nullptr);
  const TrainedRig& rig() const { return rig_; }

 private:
  Detect3DJob job_;
  Mv2dModel model_{nullptr};
  TrainedRig rig_;
  torch::Device device_;
  std::filesystem::path weights_;
};

// The xraylift.views folder's images [V, 1, H, W] and cameras (checks matching sizes; InputError otherwise).
struct LoadedViews {
  std::string case_id;
  torch::Tensor images;
  std::vector<core::Camera> cameras;
  std::vector<core::BoxRecord> truth;
};
LoadedViews load_views(const std::filesystem::path& infos_json, const detect2d::ViewDataOptions& options);

}  // namespace xraylift::detect3d
