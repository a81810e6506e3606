#pragma once
// Where a scene comes from, for the CLI commands (export, view-ar): a CT (a DICOM folder or a case folder from
// the data module), the built-in synthetic chest, or a generic model (patient sex/age/height), plus box files
// (xraylift.boxes3d), an optional attention map seen by one view of a rig and an optional 3D evidence volume.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "xraylift/core/rig.hpp"
#include "xraylift/drr/visual_hull.hpp"
#include "xraylift/viz/attention.hpp"
#include "xraylift/viz/evidence.hpp"
#include "xraylift/viz/generic_lung_model.hpp"
#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/scene.hpp"

namespace xraylift::viz {

struct SceneInputs {
  std::string ct;                      // DICOM series folder or case folder (case.json); needs the data module
  bool synthetic = false;              // the built-in synthetic chest (synthetic_chest.hpp)
  int phantom_seed = -1;               // >= 0: a phantom of the data module (its CT and truth nodules)
  std::optional<PatientSpec> generic;  // a generic model scaled to this patient (template: phantom or synthetic)
  // A view set (infos.json) without a CT: the lung model fitted to its views (drr/visual_hull.hpp). With `generic`
  // also set, the template is the fallback when the fit fails (said in the notes).
  std::string views;
  drr::LungFieldOptions lung_fields{};
  drr::VisualHullOptions hull{};
  // The views' best lung model from their fit (the visual hull and fields): set by the CLI to the parametric model's
  // fit when models/lung_shape.safetensors exists (drr/lung_shape.hpp, which needs torch); it names the model it
  // chose ("hull", "parametric_in_hull", ...) and may add a note. Unset: the visual hull.
  std::function<data::LungSegmentation(const drr::ViewsLungs&, std::string& model, std::string& note)> views_lungs;
  std::vector<std::string> box_files;
  std::string case_id;        // which case of the box files; empty: the CT's id, else the only case
  bool ct_truth = true;       // add the case folder's own truth nodules
  std::string attention_map;  // an image (8/16-bit or float) over one view
  int attention_view = 0;
  AttentionOptions attention{};
  std::string evidence;  // a 3D evidence NRRD in the world frame (evidence.hpp), e.g. `predict --heatmap`
  EvidenceOptions evidence_options{};
  LungSegmentationOptions segmentation{};
  LungModelOptions lung{};
  SceneStyle style{};
};

struct LoadedScene {
  Scene scene;
  LungModel lungs;
  std::string case_id;
  std::size_t nodule_count = 0, attention_count = 0, evidence_count = 0;
  // Which lung model: "ct" (segmented from a CT, the synthetic chest or a phantom), "views" (fitted to the views:
  // the visual hull) or "views: <model>" (SceneInputs::views_lungs's choice, e.g. "views: parametric_in_hull"),
  // "template" (the generic model); written into every lung node's info (glTF extras, HTML) as `lung_model`.
  std::string lung_source;
  std::vector<std::string> notes;  // what was loaded, for the command's report
};

// The generic model's template: the data module's phantom lungs (seed 0) on a coarse grid.
LungSegmentation generic_template_segmentation(std::string* note = nullptr);

// `rig` is used for the attention map (its camera attention_view). Not exactly one source: ConfigError (usage).
LoadedScene load_scene(const SceneInputs& inputs, const core::Rig& rig);

}  // namespace xraylift::viz
