#pragma once
// The 3D-method interface (docs/detect3d.md "Methods"). Every way of turning one case's views into 3D boxes is a
// registered implementation, built by name from its config section (as mmdet3d registers a class per method):
//   - its options: parsed from `detect3d.<name>` (typed, defaults, unknown keys refused as ConfigError naming the key
//     and its file), with the shared scene box `detect3d.scene`;
//   - its module: the torch module it runs, the 2D detector included (saved, loaded and trained as one);
//   - whether it has trained parameters of its own (mv2d: the 3D head) or runs on the 2D detector alone
//     (triangulate), and, when it has, its training loss over case samples (detect2d::CaseDataset's layout);
//   - predict(one case's views) -> xraylift.boxes3d records in world mm.
// A method registers itself with XL_REGISTER_METHOD in its own folder (detect3d/<name>/); commands, benches and
// tests iterate over registered_methods() and never name one.
#include <torch/torch.h>

#include <any>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/box_set.hpp"
#include "xraylift/core/camera.hpp"
#include "xraylift/core/config.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/detect3d/scene_range.hpp"
#include "xraylift/train/trainer.hpp"

namespace xraylift::detect3d {

// One case's input to a method.
struct CaseViews {
  torch::Tensor images;               // [V, 1, H, W] in [0, 1] (moved to the method's device)
  std::vector<core::Camera> cameras;  // per view, sizes matching the images
  std::string origin;                 // names the input in messages
  // Diagnostic (predict --oracle-2d): per view, boxes that replace the 2D detections (score 1), so the 3D stage is
  // measured alone.
  const std::vector<std::vector<core::Box2D>>* oracle_2d = nullptr;

  // Throws InputError naming `origin`: no views, images not [V, 1, H, W], a camera size that differs from its image,
  // oracle boxes for another number of views.
  void validate() const;
};

struct CasePrediction {
  std::vector<core::BoxRecord> boxes;            // world mm, kPrediction
  std::vector<detect2d::Detections> detections;  // per view, on the CPU (the 2D stage's output)
  double seconds = 0;                            // 2D + 3D inference
  // The method's 3D evidence (probability per voxel in [0, 1], in the world frame) when it gives one
  // (Method::gives_evidence; the fusion heatmap), else an empty volume.
  core::VolumeF evidence;
};

class Method {
 public:
  virtual ~Method() = default;
  const std::string& name() const { return name_; }

  // Whether predict() fills CasePrediction::evidence (`predict --heatmap` refuses a method that does not).
  virtual bool gives_evidence() const { return false; }

  // The module whose parameters are saved and loaded (and trained when the method is trainable): the 2D detector
  // under detect2d's parameter names plus the method's own children.
  virtual std::shared_ptr<torch::nn::Module> module() const = 0;
  // Parameter-name prefixes of the method's own children (empty: the method runs on the 2D detector alone, and any
  // weights file with the detector's tensors serves it).
  virtual std::vector<std::string> own_prefixes() const = 0;
  bool has_own_parameters() const { return !own_prefixes().empty(); }
  // Prefixes of children whose weights another method trains (mv2d with fused candidates: the fusion model,
  // "fusion."): never trained by this method, so a weights file must hold them for training's start as well as for
  // prediction; a file with none of them is NoWeightsForMethod (the demo skips the method, naming the prefix).
  virtual std::vector<std::string> borrowed_prefixes() const { return {}; }

  // One case, in eval mode without gradient.
  virtual CasePrediction predict(const CaseViews& views) = 0;

  // The trainer's loss over case samples on `device` (losses averaged over the batch's cases). Methods without
  // parameters of their own throw ConfigError (train their 2D detector with `task: detect2d`).
  virtual train::LossFunction loss_function(const torch::Device& device);

 protected:
  explicit Method(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

// What a registration provides.
struct MethodSpec {
  std::string name;
  std::string summary;  // one line, for --help and the docs
  bool trainable = false;
  // Reads the method's typed options from its `detect3d.<name>` section (which may be empty: defaults), the shared
  // scene box and, for a method built on another's model (mv2d with fused candidates reads `detect3d.fusion`), the
  // whole `detect3d` section; throws ConfigError (exit 2) naming the key and file for bad or unknown keys.
  std::function<std::any(const core::Config& section, const SceneRange& scene, const core::Config& detect3d)> parse;
  // Builds the method from the shared 2D detector config and the options parse() returned.
  std::function<std::unique_ptr<Method>(const detect2d::ModelConfig& model, const std::any& options)> make;
};

bool register_method(MethodSpec spec);
// Sorted by name.
const std::vector<MethodSpec>& registered_methods();
// The names, sorted, joined by " | " (for messages and --help).
std::string method_names();
// ConfigError naming `origin` and the registered names when there is none of that name.
const MethodSpec& method_spec(const std::string& name, const std::string& origin);

}  // namespace xraylift::detect3d

#define XL_METHOD_CONCAT_INNER(a, b) a##b
#define XL_METHOD_CONCAT(a, b) XL_METHOD_CONCAT_INNER(a, b)
// XL_REGISTER_METHOD(spec_expression): one line in the method's own file. The method library is linked whole
// (detect3d/CMakeLists.txt), so nothing needs to reference the registration. __COUNTER__, not __LINE__: the method
// files are compiled together as unity files (docs/BUILDING.md "Build time").
#define XL_REGISTER_METHOD(spec) \
  static const bool XL_METHOD_CONCAT(xl_method_registered_, __COUNTER__) = ::xraylift::detect3d::register_method(spec)
