#include "xraylift/viz/scene_source.hpp"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <filesystem>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/viz/synthetic_chest.hpp"

namespace fs = std::filesystem;

namespace xraylift::viz {

namespace {

struct CtInput {
  core::VolumeI16 hu;
  std::string id;
  std::vector<core::BoxRecord> truth;
};

CtInput read_ct(const std::string& path) {
  XL_CHECK(fs::exists(path), "CT input ", path, " does not exist");
  CtInput in;
  if (fs::exists(fs::path(path) / "case.json")) {
    data::Case c = data::load_case(path);
    in.hu = std::move(c.hu);
    in.id = c.id;
    in.truth = c.nodules;
  } else {
    data::DicomSeries s = data::read_dicom_series(path);
    in.hu = std::move(s.hu);
    in.id = s.patient_id.empty() ? fs::path(path).filename().string() : s.patient_id;
  }
  return in;
}

cv::Mat read_heat_map(const std::string& path) {
  const cv::Mat m = cv::imread(path, cv::IMREAD_ANYDEPTH | cv::IMREAD_GRAYSCALE);
  XL_CHECK(!m.empty(), "attention map ", path, ": cannot read as an image");
  return m;
}

}  // namespace

LungSegmentation generic_template_segmentation(std::string* note) {
  // Only the lung shapes matter for a template: a coarse grid (same field of view) keeps this fast.
  data::PhantomSpec spec;
  spec.vessels = false;
  spec.nodules = 0;
  spec.dims = {128, 128, 80};
  spec.spacing_mm = {2.8, 2.8, 4.0};
  data::Phantom ph = data::generate_phantom(spec);
  LungSegmentation seg;
  seg.labels = core::VolumeU8(ph.labels.geometry(), kBackground);
  for (std::size_t p = 0; p < ph.labels.values().size(); ++p) {
    const auto l = ph.labels.values()[p];
    seg.labels.values()[p] = l == data::kLabelRightLung  ? kRightLung
                             : l == data::kLabelLeftLung ? kLeftLung
                                                         : kBackground;
  }
  seg.right_ml = label_volume_ml(seg.labels, kRightLung);
  seg.left_ml = label_volume_ml(seg.labels, kLeftLung);
  if (note) *note = "generic template: phantom lungs (data module, seed 0, 2.8 x 2.8 x 4 mm grid)";
  return seg;
}

LoadedScene load_scene(const SceneInputs& in, const core::Rig& rig) {
  // --views with --generic: the template is the fallback of the fit, not a second source.
  const int sources = int(!in.ct.empty()) + int(in.synthetic) + int(in.generic.has_value() && in.views.empty()) +
                      int(in.phantom_seed >= 0) + int(!in.views.empty());
  if (sources != 1)  // a usage error (exit 2), not bad data
    throw core::ConfigError(core::cat(
        "scene input: give exactly one of a CT, --synthetic, --phantom, --views or --generic (got ", sources, ")"));
  if (!in.evidence.empty()) in.evidence_options.validate();  // before the slow part: a usage error fails fast
  LoadedScene out;
  std::optional<LungSegmentation> seg;
  std::vector<core::BoxRecord> boxes;
  if (!in.ct.empty() || in.synthetic || in.phantom_seed >= 0) {
    CtInput ct;
    if (in.synthetic) {
      ct.hu = make_synthetic_chest().hu;
      ct.id = "synthetic";
    } else if (in.phantom_seed >= 0) {
      data::PhantomSpec spec;
      spec.seed = std::uint64_t(in.phantom_seed);
      data::Phantom ph = data::generate_phantom(spec);
      ct.hu = std::move(ph.ct.hu);
      ct.id = ph.ct.id;
      ct.truth = ph.ct.nodules;
    } else {
      ct = read_ct(in.ct);
    }
    out.case_id = ct.id;
    seg = segment_lungs(ct.hu, in.segmentation);
    out.notes.push_back(core::cat("lungs of ", ct.id, ": right ", seg->right_ml, " mL, left ", seg->left_ml,
                                  " mL (airway removed ", seg->airway_ml, " mL)"));
    out.lungs = build_lung_model(*seg, in.lung);
    if (in.ct_truth) boxes = ct.truth;
    out.lung_source = "ct";
  }
  if (!in.views.empty()) {
    try {
      const drr::ViewsLungs fit = drr::lungs_from_views(in.views, in.lung_fields, in.hull);
      std::string model = "hull", note;
      out.lungs = build_lung_model(in.views_lungs ? in.views_lungs(fit, model, note) : fit.lungs, in.lung);
      out.case_id = fit.case_id;
      out.lung_source = in.views_lungs ? "views: " + model : "views";
      if (!note.empty()) out.notes.push_back(note);
      out.notes.push_back(core::cat("lungs fitted to the ", fit.cameras.size(), " views of ", in.views,
                                    " (visual hull of the lung fields): right ", fit.lungs.right_ml, " mL, left ",
                                    fit.lungs.left_ml, " mL, ", std::lround(fit.seconds * 1000), " ms"));
    } catch (const core::ConfigError&) {
      throw;
    } catch (const core::InputError& e) {
      if (!in.generic) throw;
      out.notes.push_back(core::cat("lung model from the views of ", in.views, " failed (", e.what(),
                                    "); the generic template instead"));
    }
  }
  if (out.lung_source.empty()) {
    std::string note;
    const LungSegmentation t = generic_template_segmentation(&note);
    out.notes.push_back(note);
    out.lungs = generic_lung_model(build_lung_model(t, in.lung), *in.generic);
    if (out.case_id.empty()) out.case_id = "generic";
    out.lung_source = "template";
    out.notes.push_back(
        core::cat("generic model: predicted TLC ", predicted_tlc_litres(*in.generic), " L (ERS/ECSC 1993)"));
  }
  for (const auto& f : in.box_files) {
    const core::BoxSet set = core::read_box_set(f);
    const core::CaseBoxes* c = nullptr;
    const std::string want = !in.case_id.empty() ? in.case_id : out.case_id;
    c = set.find(want);
    if (!c && in.case_id.empty() && set.cases.size() == 1) c = &set.cases[0];
    XL_CHECK(c, "box file ", f, ": no case '", want, "' (", set.cases.size(), " cases; pass --case-id)");
    boxes.insert(boxes.end(), c->boxes.begin(), c->boxes.end());
    out.notes.push_back(core::cat(c->boxes.size(), " boxes of case ", c->case_id, " from ", f));
  }
  out.scene = make_scene(out.lungs, boxes, in.style);
  for (auto& node : out.scene.nodes)
    if (node.kind == NodeKind::kLung) node.info["lung_model"] = out.lung_source;
  for (const auto& b : boxes) out.nodule_count += !b.ignore;
  if (!in.attention_map.empty()) {
    XL_CHECK(seg.has_value(), "attention map ", in.attention_map, ": needs a CT (or --synthetic) lung mask");
    XL_CHECK(in.attention_view >= 0 && std::size_t(in.attention_view) < rig.size(), "attention view ",
             in.attention_view, ": the rig has ", rig.size(), " views");
    const auto spots =
        attention_spots(read_heat_map(in.attention_map), rig[in.attention_view], seg->labels, in.attention);
    add_attention(out.scene, spots, in.style);
    out.attention_count = spots.size();
    out.notes.push_back(core::cat(spots.size(), " attention spheres from ", in.attention_map, " (view ",
                                  rig[in.attention_view].name(), ")"));
  }
  if (!in.evidence.empty()) {
    const core::VolumeF probability = read_evidence_nrrd(in.evidence);
    float max = 0;
    for (float v : probability.values()) max = std::max(max, v);
    out.evidence_count = add_evidence(out.scene, probability, in.evidence_options, in.evidence);
    out.notes.push_back(core::cat("evidence: ", out.evidence_count, " peaks >= ", in.evidence_options.threshold,
                                  " from ", in.evidence, " (", probability.dims().x(), " x ", probability.dims().y(),
                                  " x ", probability.dims().z(), " voxels, max ", std::lround(max * 1e4) / 1e4, ")"));
  }
  return out;
}

}  // namespace xraylift::viz
