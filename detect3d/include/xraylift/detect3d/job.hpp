#pragma once
// Everything a detect3d run reads from its config (configs/detect3d/*.yaml), the predictor of one registered method,
// the weights of a method, and the `task: detect3d` training body:
//   task: detect3d
//   model: {...}        detect2d's Faster R-CNN (detect2d::ModelConfig), the 2D stage of every method
//   data: {...}         detect2d::ViewDataOptions (window, box filter)
//   detect3d: {method: <a registered name>, scene: {min_mm, max_mm}, <name>: {...} for every registered method}
//   train: {...}        train::TrainerOptions (batch_size 1 case per step)
#include <torch/torch.h>

#include <any>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/core/trained_rig.hpp"
#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect3d/method.hpp"
#include "xraylift/detect3d/scene_range.hpp"
#include "xraylift/train/run.hpp"
#include "xraylift/train/trainer.hpp"

namespace xraylift::detect3d {

struct Detect3DJob {
  detect2d::ModelConfig model;
  detect2d::ViewDataOptions data;
  std::string method = "mv2d";                     // detect3d.method, a registered name
  SceneRange scene;                                // detect3d.scene: the world box every method works in (mm)
  std::map<std::string, std::any> method_options;  // every registered method's parsed `detect3d.<name>` section
  train::TrainerOptions trainer;
  // Reads every section above; every registered method's section is parsed (so a config may hold them all and a
  // typo in any fails), ConfigError (exit 2) naming the key and file.
  static Detect3DJob from_config(const core::Config& config);
  // Builds a registered method from this job (ConfigError naming the registered names for another).
  std::unique_ptr<Method> make_method(const std::string& name) const;
};

// Weights of a method (.safetensors, written atomically): every parameter and buffer of its module by name, the rig
// it was trained on ("rig.sources" [V, 3] mm, "rig.intrinsics" [V, 6] = fx, fy, cx, cy, width, height) and the
// method's name (header metadata "xraylift.method").
void save_method_weights(const std::filesystem::path& path, const Method& method, const core::TrainedRig& rig);
enum class WeightsUse {
  kPredict,     // every tensor of the module must be there; a file recorded for another method with parameters of
                // its own is refused
  kInitialize,  // training's starting point: the 2D detector must be there, the method's own tensors may be absent
};
// Loads by name into method.module(). Throws InputError naming the file and the first missing, unexpected or
// shape-mismatched tensor, or the method the file was written for. Files without a method record (written before
// methods were recorded, or detect2d's model.safetensors) load for every method whose tensors they hold. Tensors
// of another method's head are skipped for methods that have none of their own (they run on the file's 2D
// detector).
core::TrainedRig load_method_weights(const std::filesystem::path& path, Method& method, WeightsUse use);
// What load_method_weights throws (kPredict) for a file that holds none of a trained method's own tensors: the method
// has not been trained into that file, which callers that run every method (the demo) skip with its message.
class NoWeightsForMethod : public core::InputError {
 public:
  using core::InputError::InputError;
};

// One registered method with its weights, on one device. A predictor built for one method runs only that method.
class Predictor {
 public:
  Predictor(const Detect3DJob& job, const std::string& method, const std::filesystem::path& weights,
            const torch::Device& device);
  // Checks the views' rig against the weights' (InputError naming views.origin and the weights file).
  CasePrediction predict(const CaseViews& views);
  const std::string& method() const { return method_->name(); }
  bool gives_evidence() const { return method_->gives_evidence(); }
  const core::TrainedRig& rig() const { return rig_; }

 private:
  std::unique_ptr<Method> method_;
  core::TrainedRig rig_;
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

// `task: detect3d` of `xraylift train`: the configured method trained on case samples (rendered view sets in
// request.data, or data.on_the_fly), every case checked against one rig (and the config's `rig` when given);
// model.safetensors (save_method_weights) next to the trainer's outputs. Returns the exit code (0).
int train_method(const core::Config& config, const train::RunRequest& request);

}  // namespace xraylift::detect3d
