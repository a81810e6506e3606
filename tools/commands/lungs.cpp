// `xraylift lungs`: the lung model of a view set fitted to its views (lung fields per view, visual hull;
// docs/viz.md "Lung model from the views"), optionally measured against the CT it was rendered from.
//   xraylift lungs VIEWS... [--cases DIR] [-o report.json] [--mesh lungs.glb]
// VIEWS: infos.json files or folders of view sets. With --cases, each view set's case folder DIR/<case_id> gives
// the reference: its CT lung mask (data::segment_lungs) and, per view, that mask projected (the lung-field label).
// Per case the template (generic model), the visual hull and, for reference, the CT lung model are measured
// (eval/mask3d.hpp: Dice, volume error, surface distance) with the per-view lung-field Dice and the time of the fit.
#include <chrono>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/box_set.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/lung_filter.hpp"
#include "xraylift/data/lung_segmentation.hpp"
#include "xraylift/drr/lung_field_net.hpp"
#include "xraylift/drr/lung_shape.hpp"
#include "xraylift/drr/lung_tomography.hpp"
#include "xraylift/drr/visual_hull.hpp"
#include "xraylift/eval/mask3d.hpp"
#include "xraylift/viz/export.hpp"
#include "xraylift/viz/generic_lung_model.hpp"
#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/scene.hpp"
#include "xraylift/viz/scene_source.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace lungs_command {

struct Options {
  std::vector<std::string> inputs;
  std::string cases, out, mesh, dump, boxes, filtered, truth;
  double grid_mm = 2.0;
  drr::LungFieldOptions fields;
  drr::VisualHullOptions hull;
  std::string shape_model;     // empty: the shipped one when present
  std::string model = "best";  // which fitted model --mesh / --boxes use
  std::string field_model;     // empty: the shipped one when present; "none": the rule only
  std::string field_source = "best";
  drr::LungShapeFitOptions fit;
  bool tomography = false;
  drr::LungTomographyOptions tomo;
};

std::vector<fs::path> view_sets(const fs::path& p) {
  const std::vector<fs::path> found = tools::view_sets_under(p);
  if (found.empty())
    throw core::InputError(
        core::cat("lungs: '", p.string(), "' is neither an infos.json view set nor a folder of them"));
  return found;
}

// The generic model as a mask: scene_source's template placed for the default patient, as predict --scene does.
struct LungTemplate {
  viz::LungSegmentation seg;
  viz::GenericPlacement place;
  double seconds = 0;
  LungTemplate() {
    const auto t0 = std::chrono::steady_clock::now();
    seg = viz::generic_template_segmentation();
    place = viz::generic_placement(viz::build_lung_model(seg), viz::PatientSpec{});
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  core::VolumeU8 labels() const { return viz::place_labels(seg.labels, place); }
};

nlohmann::json to_json(const eval::MaskComparison& m) {
  return {{"dice", m.dice},
          {"truth_ml", m.truth_ml},
          {"model_ml", m.other_ml},
          {"volume_error_ml", m.volume_error_ml},
          {"volume_error_pct", m.volume_error_pct},
          {"extra_ml", m.extra_ml},
          {"missed_ml", m.missed_ml},
          {"surface_mean_mm", m.surface_mean_mm},
          {"surface_p95_mm", m.surface_p95_mm}};
}

tools::Runner setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("inputs", o->inputs, "infos.json view sets or folders of them")->required();
  app.add_option("--cases", o->cases, "Folder of the case folders (<case_id>/): measure against their CT lungs");
  app.add_option("-o,--out", o->out, "Report (JSON): per case the fit and, with --cases, the measurements");
  app.add_option("--mesh", o->mesh, "Scene file (.glb, .html, .obj, .ply) of the fitted lungs (one view set only)");
  app.add_option("--boxes", o->boxes,
                 "Predictions (xraylift.boxes3d) to filter by the fitted lungs as predict's lung filter does");
  app.add_option("--filtered", o->filtered, "With --boxes: the predictions kept (xraylift.boxes3d)");
  app.add_option("--truth-out", o->truth, "The view sets' truth boxes (xraylift.boxes3d), e.g. for `xraylift eval`");
  app.add_option("--dump", o->dump,
                 "Folder: per case and view <case>_viewNN_fields.npy (1: the fitted field, 2: the label, 3: both)");
  app.add_option(
      "--shape-model", o->shape_model,
      "Parametric lung model (.safetensors; default: models/lung_shape.safetensors when present; none: no fit)");
  app.add_option("--field-model", o->field_model,
                 "Lung-field network (.safetensors; default: models/lung_fields.safetensors when present; none: the "
                 "rule only)");
  app.add_option("--fields", o->field_source,
                 "Lung fields the hull is carved from: rule, net or best (the best measured)")
      ->capture_default_str()
      ->check(CLI::IsMember({"rule", "net", "best"}));
  app.add_option(
         "--model", o->model,
         "Lungs for --mesh / --boxes: hull, parametric, parametric_in_hull, tomography or best (the best measured)")
      ->capture_default_str()
      ->check(CLI::IsMember({"hull", "parametric", "parametric_in_hull", "tomography", "best"}));
  app.add_flag("--tomography", o->tomography,
               "Also reconstruct the lungs from their path length per view inside the hull (SIRT; docs/drr.md)");
  app.add_option("--tomography-iterations", o->tomo.iterations, "Tomography: SIRT iterations")
      ->capture_default_str()
      ->check(tools::within(0, 10000));
  app.add_option("--tomography-threshold", o->tomo.threshold, "Tomography: occupancy threshold")
      ->capture_default_str()
      ->check(tools::within(0.01, 0.99));
  app.add_option("--tomography-deficit", o->tomo.lung_deficit_per_mm,
                 "Tomography: deficit (T - L / mu_water) per mm of lung along a ray")
      ->capture_default_str()
      ->check(tools::within(0.05, 1));
  app.add_option("--fit-iterations", o->fit.iterations, "Parametric fit: optimiser steps")
      ->capture_default_str()
      ->check(tools::within(0, 100000));
  app.add_option("--fit-grid-mm", o->fit.grid_mm, "Parametric fit: voxel grid (mm)")
      ->capture_default_str()
      ->check(tools::within(1, 50));
  app.add_option("--fit-code-prior", o->fit.code_prior, "Parametric fit: weight of the code prior")
      ->capture_default_str()
      ->check(tools::within(0, 1e6));
  app.add_option("--grid-mm", o->grid_mm, "Grid of the measurement (mm)")
      ->capture_default_str()
      ->check(tools::within(0.5, 10));
  app.add_option("--voxel-mm", o->hull.voxel_mm, "Visual hull voxel size (mm)")
      ->capture_default_str()
      ->check(tools::within(0.5, 50));
  app.add_option("--min-views", o->hull.min_views,
                 "Keep voxels inside the lung field of >= this many views (<= 0: all but that many)")
      ->capture_default_str()
      ->check(tools::within(-1000, 1000));
  app.add_option("--max-voxels", o->hull.max_voxels, "Largest hull grid")
      ->capture_default_str()
      ->check(tools::within(1, 1e9));
  app.add_option("--min-deficit-mm", o->fields.min_deficit_mm,
                 "Lung field: body path minus L / mu_water above this (mm)")
      ->capture_default_str()
      ->check(tools::within(0, 500));
  app.add_option("--min-deficit-fraction", o->fields.min_deficit_fraction,
                 "Lung field: and above this fraction of the body path")
      ->capture_default_str()
      ->check(tools::within(0, 0.99));
  app.add_option("--open-px", o->fields.open_px, "Lung field: opening radius (px at 256)")
      ->capture_default_str()
      ->check(tools::within(0, 32));
  app.add_option("--body-threshold", o->fields.body_threshold, "Lung field: L of the body outline")
      ->capture_default_str()
      ->check(tools::within(0.01, 10));
  app.add_option("--body-margin", o->fields.body_margin, "Lung field: body erosion, fraction of the width")
      ->capture_default_str()
      ->check(tools::within(0, 0.4));
  return [o] {
    o->fields.validate();
    o->fit.validate();
    std::optional<drr::LungShapeModel> shape;
    const fs::path shape_path = o->shape_model == "none" ? fs::path()
                                : o->shape_model.empty() ? tools::shipped_lung_shape_model()
                                                         : fs::path(o->shape_model);
    if (!shape_path.empty()) shape = drr::LungShapeModel::load(shape_path);
    XL_USAGE_CHECK(shape || o->model.rfind("parametric", 0) != 0, "lungs --model ", o->model,
                   ": needs a parametric lung model (--shape-model or models/lung_shape.safetensors)");
    const std::string best = drr::kBestViewsLungModel;
    const std::string chosen = o->model != "best"                             ? o->model
                               : (best.rfind("parametric", 0) == 0 && !shape) ? std::string("hull")
                                                                              : best;
    std::optional<drr::LungFieldNet> field_net;
    const fs::path field_path = o->field_model == "none" ? fs::path()
                                : o->field_model.empty() ? tools::shipped_lung_field_model()
                                                         : fs::path(o->field_model);
    if (!field_path.empty()) field_net = drr::LungFieldNet::load(field_path);
    XL_USAGE_CHECK(field_net || o->field_source != "net",
                   "lungs --fields net: needs a lung-field network "
                   "(--field-model or models/lung_fields.safetensors)");
    const std::string fields_used =
        o->field_source == "best" ? (field_net ? drr::kBestLungFields : "rule") : o->field_source;
    std::vector<fs::path> sets;
    for (const auto& in : o->inputs) {
      XL_CHECK(fs::exists(in), "lungs: input '", in, "' does not exist");
      for (const auto& s : view_sets(in)) sets.push_back(s);
    }
    XL_USAGE_CHECK(o->mesh.empty() || sets.size() == 1, "lungs --mesh: needs exactly one view set, got ", sets.size());
    XL_USAGE_CHECK(o->filtered.empty() || !o->boxes.empty(), "lungs --filtered: needs --boxes");
    std::optional<core::BoxSet> boxes, kept_set, truth_set;
    if (!o->boxes.empty()) {
      boxes = core::read_box_set(o->boxes);
      kept_set.emplace();
      kept_set->source = boxes->source;
    }
    if (!o->truth.empty()) truth_set.emplace();
    std::size_t removed_total = 0, boxes_total = 0;
    std::optional<LungTemplate> tmpl;
    nlohmann::json cases = nlohmann::json::array();
    struct Sum {
      double dice = 0, err_pct = 0, abs_err_pct = 0, err_ml = 0, mean = 0, p95 = 0, extra = 0, missed = 0;
      int n = 0;
      void add(const eval::MaskComparison& m) {
        dice += m.dice, err_pct += m.volume_error_pct, abs_err_pct += std::abs(m.volume_error_pct),
            err_ml += m.volume_error_ml, mean += m.surface_mean_mm, p95 += m.surface_p95_mm, extra += m.extra_ml,
            missed += m.missed_ml, ++n;
      }
      nlohmann::json json() const {
        const double k = n ? 1.0 / n : 0;
        return {{"cases", n},
                {"dice", dice * k},
                {"volume_error_pct", err_pct * k},
                {"abs_volume_error_pct", abs_err_pct * k},
                {"volume_error_ml", err_ml * k},
                {"surface_mean_mm", mean * k},
                {"surface_p95_mm", p95 * k},
                {"extra_ml", extra * k},
                {"missed_ml", missed * k}};
      }
      // "Dice .., volume error .. % (|.| .. %), surface .. / p95 .. mm", the means of a summary line
      std::string text() const {
        const nlohmann::json j = json();
        return core::cat("Dice ", j["dice"].get<double>(), ", volume error ", j["volume_error_pct"].get<double>(),
                         " % (|.| ", j["abs_volume_error_pct"].get<double>(), " %), surface ",
                         j["surface_mean_mm"].get<double>(), " / p95 ", j["surface_p95_mm"].get<double>(), " mm");
      }
    } sum_hull, sum_template, sum_ct, sum_param, sum_param_hull, sum_hull_net, sum_tomo, sum_tomo_oracle;
    double tomo_seconds = 0;
    double param_seconds = 0;
    double field_dice = 0, net_field_dice = 0, seconds = 0, net_seconds = 0;
    int failed = 0;
    std::size_t field_count = 0;
    for (const auto& s : sets) {
      drr::ViewsLungs fit;
      try {
        fit = drr::lungs_from_views(s, o->fields, o->hull);
      } catch (const core::ConfigError&) {
        throw;
      } catch (const core::InputError& e) {  // measured as a failure, the other cases go on
        if (sets.size() == 1) throw;
        core::log::warn("lungs: ", s.string(), ": ", e.what());
        cases.push_back({{"views", s.string()}, {"error", e.what()}});
        ++failed;
        continue;
      }
      seconds += fit.seconds;
      std::optional<drr::ViewsLungs> net_fit;
      std::string net_error;
      if (field_net && (fields_used == "net" || !o->cases.empty())) {  // used, or measured
        try {
          net_fit = drr::with_net_lung_fields(*field_net, fit, o->fields, o->hull);
          net_seconds += net_fit->seconds - fit.seconds;
        } catch (const core::InputError& e) {  // e.g. no lung in the network's fields: the rule's for this case
          net_error = e.what();
          core::log::warn("lungs: ", s.string(), ": the network's fields: ", net_error, "; the rule's fields instead");
        }
      }
      const drr::ViewsLungs& fitted = fields_used == "net" && net_fit ? *net_fit : fit;
      nlohmann::json c = {{"views", s.string()},          {"case_id", fit.case_id}, {"right_ml", fit.lungs.right_ml},
                          {"left_ml", fit.lungs.left_ml}, {"seconds", fit.seconds}, {"fields", fields_used}};
      if (!net_error.empty()) c["net_fields_error"] = net_error, c["fields"] = "rule";
      if (net_fit)
        c["net_fields"] = {{"right_ml", net_fit->lungs.right_ml},
                           {"left_ml", net_fit->lungs.left_ml},
                           {"seconds", net_fit->seconds - fit.seconds}};
      std::optional<drr::LungShapeFit> param;
      if (shape && (!o->cases.empty() || chosen != "hull")) {  // measured, or the lungs asked for
        param = drr::fit_lung_shape(*shape, fitted.cameras, fitted.fields, fitted.lungs, o->fit);
        param_seconds += param->seconds;
        c["parametric_fit"] = {{"seconds", param->seconds},
                               {"right_ml", param->lungs.right_ml},
                               {"left_ml", param->lungs.left_ml},
                               {"first_loss", param->first_loss},
                               {"last_loss", param->last_loss}};
      }
      std::optional<drr::LungTomography> tomo;
      if (o->tomography || chosen == "tomography") {
        tomo = drr::reconstruct_lungs(fitted.cameras, drr::lung_path_estimate(fitted, o->tomo), fitted.lungs, o->tomo);
        tomo_seconds += tomo->seconds;
        c["tomography"] = {{"seconds", tomo->seconds},
                           {"right_ml", tomo->lungs.right_ml},
                           {"left_ml", tomo->lungs.left_ml},
                           {"residual_mm", tomo->residual_mm}};
      }
      const data::LungSegmentation& used = chosen == "tomography"           ? tomo->lungs
                                           : chosen == "parametric"         ? param->lungs
                                           : chosen == "parametric_in_hull" ? param->lungs_in_hull
                                                                            : fitted.lungs;
      c["model"] = chosen;
      if (boxes) {
        const core::CaseBoxes* cb = boxes->find(fit.case_id);
        const std::vector<core::BoxRecord> in = cb ? cb->boxes : std::vector<core::BoxRecord>{};
        const auto k = data::keep_inside_lungs(in, used.labels, data::kLungFilterMarginMm);
        kept_set->case_for(fit.case_id).boxes = k.kept;
        c["boxes"] = in.size(), c["removed"] = k.removed.size();
        removed_total += k.removed.size(), boxes_total += in.size();
      }
      if (truth_set) truth_set->case_for(fit.case_id).boxes = core::read_view_set(s).boxes_3d;
      std::string line = core::cat(fit.case_id, ": hull ", std::lround(fit.lungs.total_ml()), " mL in ",
                                   std::lround(fit.seconds * 1000), " ms");
      if (!o->cases.empty()) {
        const fs::path dir = fs::path(o->cases) / fit.case_id;
        XL_CHECK(fs::exists(dir / "case.json"), "lungs --cases: no case folder ", dir.string(), " for view set ",
                 s.string());
        const data::Case cs = data::load_case(dir);
        const auto t0 = std::chrono::steady_clock::now();
        const data::LungSegmentation ct = data::segment_lungs(cs.hu);
        const double ct_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto labels = drr::projected_lung_fields(ct.labels, fit.cameras);
        nlohmann::json per_view = nlohmann::json::array(), per_view_net = nlohmann::json::array();
        for (std::size_t v = 0; v < labels.size(); ++v) {
          const double d = drr::mask_dice(labels[v], fit.fields[v]);
          per_view.push_back(d);
          field_dice += d, ++field_count;
          if (net_fit) {
            const double dn = drr::mask_dice(labels[v], net_fit->fields[v]);
            per_view_net.push_back(dn);
            net_field_dice += dn;
          }
        }
        c["field_dice"] = per_view;
        if (net_fit) {
          c["net_field_dice"] = per_view_net;
          const auto mn = eval::compare_masks(ct.labels, net_fit->lungs.labels, o->grid_mm);
          sum_hull_net.add(mn);
          c["hull_net"] = to_json(mn);
          line += core::cat("; net fields: Dice ", std::lround(mn.dice * 1000) / 1000.0, " (",
                            std::lround(mn.volume_error_pct * 10) / 10.0, " %)");
        }
        if (!o->dump.empty()) {
          fs::create_directories(o->dump);
          for (std::size_t v = 0; v < labels.size(); ++v) {
            std::vector<float> img(labels[v].pixels.size());
            for (std::size_t p = 0; p < img.size(); ++p)
              img[p] = float(fitted.fields[v].pixels[p] + 2 * labels[v].pixels[p]);
            core::write_npy(fs::path(o->dump) / core::cat(fit.case_id, "_view", v / 10, v % 10, "_fields.npy"),
                            img.data(), {labels[v].height, labels[v].width});
          }
        }
        if (!tmpl) tmpl.emplace();
        const auto t1 = std::chrono::steady_clock::now();
        const core::VolumeU8 generic = tmpl->labels();
        const double t_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        const auto mh = eval::compare_masks(ct.labels, fit.lungs.labels, o->grid_mm);
        const auto mt = eval::compare_masks(ct.labels, generic, o->grid_mm);
        const auto mc = eval::compare_masks(ct.labels, ct.labels, o->grid_mm);
        sum_hull.add(mh), sum_template.add(mt), sum_ct.add(mc);
        c["hull"] = to_json(mh), c["template"] = to_json(mt), c["ct"] = to_json(mc);
        if (param) {
          const auto mp = eval::compare_masks(ct.labels, param->lungs.labels, o->grid_mm);
          const auto mph = eval::compare_masks(ct.labels, param->lungs_in_hull.labels, o->grid_mm);
          sum_param.add(mp), sum_param_hull.add(mph);
          c["parametric"] = to_json(mp), c["parametric_in_hull"] = to_json(mph);
          line += core::cat("; parametric Dice ", std::lround(mp.dice * 1000) / 1000.0, " (",
                            std::lround(mp.volume_error_pct * 10) / 10.0, " %), in hull ",
                            std::lround(mph.dice * 1000) / 1000.0, " (", std::lround(mph.volume_error_pct * 10) / 10.0,
                            " %), fit ", std::lround(param->seconds * 10) / 10.0, " s");
        }
        if (tomo) {
          const auto mt2 = eval::compare_masks(ct.labels, tomo->lungs.labels, o->grid_mm);
          // the upper bound: the CT's own path lengths through the same hull
          const auto oracle = drr::reconstruct_lungs(
              fitted.cameras, drr::projected_lung_paths(ct.labels, fitted.cameras), fitted.lungs, o->tomo);
          const auto mo = eval::compare_masks(ct.labels, oracle.lungs.labels, o->grid_mm);
          sum_tomo.add(mt2), sum_tomo_oracle.add(mo);
          c["tomography"]["measured"] = to_json(mt2), c["tomography_ct_paths"] = to_json(mo);
          line += core::cat("; tomography Dice ", std::lround(mt2.dice * 1000) / 1000.0, " (",
                            std::lround(mt2.volume_error_pct * 10) / 10.0, " %), from the CT's paths ",
                            std::lround(mo.dice * 1000) / 1000.0, " (", std::lround(mo.volume_error_pct * 10) / 10.0,
                            " %)");
        }
        c["ct_seconds"] = ct_seconds, c["template_seconds"] = t_seconds + tmpl->seconds;
        line += core::cat("; Dice hull ", std::lround(mh.dice * 1000) / 1000.0, " template ",
                          std::lround(mt.dice * 1000) / 1000.0, ", volume error hull ",
                          std::lround(mh.volume_error_pct * 10) / 10.0, " % template ",
                          std::lround(mt.volume_error_pct * 10) / 10.0, " %, field Dice ",
                          std::lround(1000 * per_view.get<std::vector<double>>().front()) / 1000.0, " (view 0)");
      }
      core::log::info("lungs: ", line);
      cases.push_back(std::move(c));
      if (!o->mesh.empty()) {
        const viz::LungModel model = viz::build_lung_model(used);
        viz::Scene scene = viz::make_scene(model, {});
        for (auto& node : scene.nodes) node.info["lung_model"] = "views: " + chosen;
        viz::write_scene(o->mesh, scene);
        core::log::info("lungs: ", o->mesh, "  lung model fitted to the views");
      }
    }
    nlohmann::json doc = {{"format", "xraylift.lungs_from_views"},
                          {"version", 1},
                          {"lung_fields",
                           {{"body_threshold", o->fields.body_threshold},
                            {"body_margin", o->fields.body_margin},
                            {"min_deficit_mm", o->fields.min_deficit_mm},
                            {"min_deficit_fraction", o->fields.min_deficit_fraction},
                            {"open_px", o->fields.open_px}}},
                          {"hull", {{"voxel_mm", o->hull.voxel_mm}, {"min_views", o->hull.min_views}}},
                          {"fields", fields_used},
                          {"field_model", field_path.string()},
                          {"net_mean_seconds", net_seconds / double(sets.size())},
                          {"mean_seconds", seconds / double(sets.size())},
                          {"model", chosen},
                          {"shape_model", shape_path.string()},
                          {"parametric_fit",
                           {{"iterations", o->fit.iterations},
                            {"grid_mm", o->fit.grid_mm},
                            {"code_prior", o->fit.code_prior},
                            {"mean_seconds", param_seconds / double(sets.size())}}},
                          {"failed", failed},
                          {"cases", cases}};
    if (!o->cases.empty()) {
      doc["summary"] = {{"hull", sum_hull.json()},
                        {"template", sum_template.json()},
                        {"ct", sum_ct.json()},
                        {"parametric", sum_param.json()},
                        {"parametric_in_hull", sum_param_hull.json()},
                        {"field_dice", field_count ? field_dice / double(field_count) : 0.0}};
      if (sum_tomo.n) {
        doc["summary"]["tomography"] = sum_tomo.json();
        doc["summary"]["tomography_ct_paths"] = sum_tomo_oracle.json();
        core::log::info("lungs: tomography ", sum_tomo.text(), "; from the CT's paths ", sum_tomo_oracle.text(), "; ",
                        tomo_seconds / double(sets.size()), " s per case");
      }
      if (field_net) {
        doc["summary"]["hull_net"] = sum_hull_net.json();
        doc["summary"]["net_field_dice"] = field_count ? net_field_dice / double(field_count) : 0.0;
        core::log::info("lungs: net fields: field Dice ", doc["summary"]["net_field_dice"].get<double>(), "; hull ",
                        sum_hull_net.text(), "; ", net_seconds / double(sets.size()), " s per case");
      }
      core::log::info("lungs: ", sets.size(), " case(s): field Dice ", doc["summary"]["field_dice"].get<double>(),
                      "; hull ", sum_hull.text(), "; template ", sum_template.text(), "; fit ",
                      seconds / double(sets.size()), " s per case");
      if (shape)
        core::log::info("lungs: parametric ", sum_param.text(), "; in the hull ", sum_param_hull.text(), "; fit ",
                        param_seconds / double(sets.size()), " s per case");
    }
    if (boxes) {
      doc["filter"] = {{"boxes", boxes_total}, {"removed", removed_total}, {"margin_mm", data::kLungFilterMarginMm}};
      core::log::info("lungs: the lung filter by the fitted lungs removed ", removed_total, " of ", boxes_total,
                      " prediction(s)");
      if (!o->filtered.empty()) core::write_box_set(o->filtered, *kept_set);
    }
    if (truth_set) {
      truth_set->source = core::BoxSource::kTruth;
      core::write_box_set(o->truth, *truth_set);
    }
    if (!o->out.empty()) core::write_file_atomic(o->out, doc.dump(1) + "\n");
    return 0;
  };
}

}  // namespace lungs_command

XL_REGISTER_COMMAND("lungs", "A view set's lung model from its views (lung fields, hull, tomography), measured",
                    lungs_command::setup);
