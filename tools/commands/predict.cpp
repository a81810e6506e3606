// `xraylift predict`: radiographs -> 3D nodule boxes. Input: case folders (rendered through the config's rig
// first), rendered view sets (infos.json or its folder) or a folder of view sets. Runs the configured detect3d
// method (any registered one, detect3d/method.hpp; its 2D detector first) and writes, next to the -o file
// (docs/detect3d.md "predict"):
//   pred.json                  xraylift.boxes3d predictions (world mm)
//   pred.detections2d.json     xraylift.boxes2d detections of every view
//   pred_overlays/             per view: projected 3D predictions (red) next to the projected truth (green)
//   pred_views/<case>/         the rendered views of case inputs (each folder whole or not at all)
//   pred_eval/                 with --eval: the eval module's 3D report against the views' truth, and that truth
//                              (truth.json, for `xraylift eval --compare` of several runs)
//   pred_heatmaps/<case>.nrrd  with --heatmap: the method's 3D evidence (probability per voxel, float, world frame)
//   --scene FILE               predictions and truth (distinct colours) in the lung model
//   pred.lung_filter.json      what the lung filter removed per case (predictions whose centre is outside the CT's
//                              lung mask, or for view sets without a CT the lung model fitted to the views;
//                              lung_source per case; --keep-outside-lungs)
//   pred.dense_filter.json     the dense-material rule per case (drr/dense_filter.hpp): every prediction's
//                              attenuation excess from the views (water-equivalent HU) and those removed above
//                              detect3d.dense_filter.max_excess_hu; the truth's estimates as a diagnostic
//                              (--keep-dense)
// Nothing is left behind when a step fails.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/box_set.hpp"
#include "xraylift/core/interrupt.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/data/lung_filter.hpp"
#include "xraylift/data/lung_segmentation.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/detect2d/inference.hpp"
#include "xraylift/detect3d/job.hpp"
#include "xraylift/drr/dense_filter.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/drr/visual_hull.hpp"
#include "xraylift/eval/cases3d.hpp"
#include "xraylift/eval/evaluate3d.hpp"
#include "xraylift/eval/options.hpp"
#include "xraylift/eval/report.hpp"
#include "xraylift/viz/export.hpp"
#include "xraylift/viz/scene_source.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

// Named, not anonymous: the torch commands are compiled as one unity file (docs/BUILDING.md "Build time").
namespace predict_command {

struct Options {
  std::vector<std::string> inputs;
  std::string out = "pred.json";
  std::string weights;
  std::string device = "cpu";
  std::string method;
  std::string scene;
  bool heatmap = false;
  bool eval = false;
  bool no_overlays = false;
  bool oracle_2d = false;
  bool keep_outside_lungs = false;
  bool keep_dense = false;
  bool dense_filter = false;
  double overlay_score = 0.3;
  int size = 0;
  std::unique_ptr<tools::ConfigOptions> config;
};

// Removes what this run created when it fails.
struct Cleanup {
  std::vector<fs::path> paths;
  bool armed = true;
  ~Cleanup() {
    if (!armed) return;
    for (const auto& p : paths) {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  }
};

fs::path sibling(const fs::path& out, const std::string& suffix) {
  return out.parent_path() / (out.stem().string() + suffix);
}

bool is_case_input(const fs::path& p) {
  return (fs::is_directory(p) && !fs::exists(p / "infos.json") &&
          (fs::exists(p / "case.json") || fs::exists(p / "volume.nrrd"))) ||
         p.extension() == ".nrrd";
}

// View sets under a rendered input: the file itself, its folder's infos.json, or each sub-folder's.
std::vector<fs::path> view_sets_of(const fs::path& p) {
  const std::vector<fs::path> found = tools::view_sets_under(p);
  if (found.empty())
    throw core::InputError(core::cat("predict: '", p.string(), "' is neither a case folder, a .nrrd volume, an ",
                                     "infos.json view set nor a folder of view sets"));
  return found;
}

detect2d::ImageDetections image_detections(const std::string& case_id, const core::Camera& cam,
                                           const detect2d::Detections& d) {
  detect2d::ImageDetections out;
  out.case_id = case_id, out.view = cam.name(), out.image_id = case_id + "/" + cam.name();
  out.width = cam.width(), out.height = cam.height();
  out.boxes = d.boxes.defined() ? d.boxes.to(torch::kFloat) : torch::zeros({0, 4});
  out.scores = d.scores.defined() ? d.scores.to(torch::kFloat) : torch::zeros({0});
  return out;
}

// The CT a view set was rendered from, when it is known and still there: the case input itself, else the
// `render.source_case` that `render` records in infos.json. Empty otherwise (imported radiographs have none).
fs::path ct_of_view_set(const fs::path& infos) {
  const core::ViewSet set = core::read_view_set(infos);
  const auto it = set.render.find("source_case");
  if (it == set.render.end() || !it->is_string()) return {};
  const fs::path p = it->get<std::string>();
  std::error_code ec;
  return fs::exists(p, ec) ? p : fs::path();
}

// The visible projections of the non-ignore boxes in a view (with their scores when asked).
std::vector<core::Box2D> projected(const core::Camera& cam, const std::vector<core::BoxRecord>& boxes,
                                   std::vector<float>* scores) {
  std::vector<core::Box2D> out;
  for (const auto& b : boxes) {
    if (b.ignore) continue;
    const auto p = core::project_box(cam, b.box);
    if (!p.visible) continue;
    out.push_back(p.box);
    if (scores) scores->push_back(float(b.score));
  }
  return out;
}

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("inputs", opt->inputs,
                 "Case folders / .nrrd volumes (rendered first), infos.json view sets or folders of them")
      ->required();
  app.add_option("-o,--out", opt->out, "Predictions file (xraylift.boxes3d); other outputs are named after it")
      ->capture_default_str();
  app.add_option("--weights", opt->weights,
                 "detect3d weights (.safetensors from `xraylift train`); a method without parameters of its own also "
                 "takes detect2d weights")
      ->required();
  app.add_option("--device", opt->device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--method", opt->method, detect3d::method_names() + " (overrides detect3d.method)");
  app.add_flag("--eval", opt->eval,
               "Score the predictions against the views' truth (eval module report in <out>_eval/)");
  app.add_option("--scene", opt->scene,
                 "Also write a scene (.glb, .html, .obj, .ply) of predictions and truth in the lung model");
  app.add_flag("--heatmap", opt->heatmap,
               "Also write the method's 3D evidence per case (probability per voxel, float NRRD in the world frame) "
               "to <out>_heatmaps/<case>.nrrd (methods that give one, e.g. a voxel detector)");
  app.add_option("--size", opt->size,
                 "Render case inputs at N px across (default: the size the weights were trained on)");
  app.add_flag("--no-overlays", opt->no_overlays, "Skip the overlay PNGs");
  app.add_flag("--keep-outside-lungs", opt->keep_outside_lungs,
               "Keep predictions whose centre lies outside the lungs (by default they are removed: the lungs are the "
               "case's CT lung mask when the CT is known, else the lung model fitted to the views)");
  app.add_flag("--keep-dense", opt->keep_dense,
               "Keep predictions denser than any nodule (by default those whose attenuation excess estimated from "
               "the views exceeds detect3d.dense_filter.max_excess_hu, 1500 water-equivalent HU, are removed: "
               "contrast-filled vessels; the estimates are reported either way)");
  app.add_flag("--dense-filter", opt->dense_filter,
               "Turn the dense filter on over detect3d.dense_filter.enabled: false");
  app.add_flag("--oracle-2d", opt->oracle_2d,
               "Diagnostic: the views' projected truth boxes replace the 2D detections (measures the 3D stage alone)");
  app.add_option("--overlay-score", opt->overlay_score, "Draw predictions with at least this score")
      ->capture_default_str();
  opt->config = std::make_unique<tools::ConfigOptions>(app, "", true);
  return [opt] {
    core::Config cfg = opt->config->load();
    if (!opt->method.empty()) cfg.set("detect3d.method=" + opt->method);
    const std::string task = cfg.get<std::string>("task", "detect3d");
    if (task != "detect3d")
      throw core::ConfigError(core::cat("predict: the config's task must be detect3d, got '", task, "'"));
    auto job = detect3d::Detect3DJob::from_config(cfg);
    const core::Rig configured = cfg.has("rig") ? core::Rig::from_config(cfg.section("rig")) : core::Rig::ring({});
    const auto render_options = drr::RenderOptions::from_config(cfg.section("drr"));
    const auto eval_options = eval::eval3d_options_from_config(cfg.section("eval"));
    drr::DenseFilterOptions dense_options =
        cfg.has("detect3d.dense_filter") ? drr::DenseFilterOptions::from_config(cfg.section("detect3d.dense_filter"))
                                         : drr::DenseFilterOptions{};
    XL_USAGE_CHECK(!(opt->keep_dense && opt->dense_filter),
                   "--dense-filter and --keep-dense: expected at most one of them (on or off)");
    if (opt->dense_filter) dense_options.enabled = true;
    if (opt->keep_dense) dense_options.enabled = false;
    cfg.check_no_unknown_keys();
    XL_USAGE_CHECK(opt->size >= 0, "--size ", opt->size, ": expected pixels >= 1 (0: as trained)");

    const auto t0 = std::chrono::steady_clock::now();
    detect3d::Predictor predictor(job, job.method, opt->weights, torch::Device(opt->device));
    const fs::path out(opt->out);
    if (opt->heatmap && !predictor.gives_evidence())
      throw core::ConfigError(
          core::cat("predict --heatmap: method '", predictor.method(),
                    "' gives no 3D evidence volume; expected a method that does (a voxel detector)"));
    const fs::path views_root = sibling(out, "_views");
    // The folders of -o and --scene, and <out>_views/ where the case folders are made.
    tools::remove_stale_temporaries({opt->out, opt->scene, (views_root / "case").string()}, "predict");
    Cleanup cleanup;

    // Inputs -> units, one per case: a view set, or a case input that its unit renders into <out>_views/<case>/
    // (the rig is checked before any rendering; a case folder of the same config and input is reused).
    struct Unit {
      fs::path view_set, case_input;  // one of them
    };
    std::vector<Unit> units;
    for (const auto& in : opt->inputs) {
      const fs::path p(in);
      if (!fs::exists(p)) throw core::InputError(core::cat("predict: input '", in, "' does not exist"));
      if (!is_case_input(p)) {
        for (const auto& s : view_sets_of(p)) units.push_back({s, {}});
        continue;
      }
      units.push_back({{}, p});
    }
    const int trained_width = predictor.rig().empty() ? 0 : predictor.rig().intrinsics.front().width;
    const int width = opt->size > 0 ? opt->size : trained_width;
    const core::Rig rig = width > 0 ? configured.with_detector_width(width) : configured;
    if (std::any_of(units.begin(), units.end(), [](const Unit& u) { return !u.case_input.empty(); }))
      core::check_rig(predictor.rig(), rig.cameras(), core::cat("predict: rig of config '", cfg.origin("rig"), "'"));
    if (!opt->scene.empty() && units.size() != 1)
      throw core::InputError(core::cat("predict: --scene needs exactly one case, got ", units.size()));

    std::vector<fs::path> sets;       // per finished unit: its view set
    std::vector<fs::path> case_dirs;  // per view set: the case folder it came from (for scenes), or empty
    std::vector<fs::path> ct_inputs;  // per view set: the CT it was rendered from (lung filter), or empty
    core::BoxSet predictions, truth;
    predictions.source = core::BoxSource::kPrediction;
    std::vector<detect2d::ImageDetections> detections;
    std::vector<detect3d::LoadedViews> loaded;
    std::vector<std::pair<std::string, core::VolumeF>> evidence;  // --heatmap: per case
    core::Progress progress("predict", static_cast<std::int64_t>(units.size()));
    double seconds = 0;
    nlohmann::json lung_cases = nlohmann::json::array();
    std::size_t lung_removed = 0, lung_filtered = 0, lung_skipped = 0, lung_by_ct = 0, lung_by_views = 0, rendered = 0;
    nlohmann::json dense_cases = nlohmann::json::array();
    std::size_t dense_removed = 0, dense_filtered = 0, dense_skipped = 0;
    const tools::ViewsLungsFunction views_lungs = tools::views_lungs_function();  // loads the model once
    const bool views_root_existed = fs::exists(views_root);
    auto predict_unit = [&](std::size_t ui) {
      fs::path s = units[ui].view_set, case_dir, ct;
      if (const fs::path& p = units[ui].case_input; !p.empty()) {
        const fs::path dir = views_root / drr::render_input_id(p);
        const std::string record = cfg.dump() + core::cat("# width ", width, "\n") + drr::render_input_stamp(p);
        if (drr::render_folder_complete(dir, record)) {
          core::log::info("predict: ", dir.string(), " is complete (same config and input), reused");
        } else {
          if (!views_root_existed) cleanup.paths.push_back(views_root);
          // Whole or not at all (a temporary sibling folder renamed into place, as `render --manifest` does): a
          // failure or a kill mid-case never leaves a case folder without its infos.json under the final name.
          drr::render_case_folder(drr::load_render_input(p), rig, render_options, {}, dir, record);
        }
        ++rendered;
        s = dir / "infos.json";
        case_dir = fs::is_directory(p) ? p : fs::path();
        ct = p;
      } else {
        ct = ct_of_view_set(s);
      }
      auto views = detect3d::load_views(s, job.data);
      std::vector<std::vector<core::Box2D>> oracle;
      if (opt->oracle_2d)
        for (const auto& cam : views.cameras) oracle.push_back(projected(cam, views.truth, nullptr));
      const auto pred =
          predictor.predict({views.images, views.cameras, s.string(), opt->oracle_2d ? &oracle : nullptr});
      seconds += pred.seconds;
      if (opt->heatmap) evidence.emplace_back(views.case_id, pred.evidence);
      std::vector<core::BoxRecord> boxes = pred.boxes;
      if (!opt->keep_outside_lungs) {
        nlohmann::json entry = {{"case_id", views.case_id}, {"predictions", boxes.size()}};
        // The best lung mask available: the CT's when the input has one, else the lung model fitted to the views
        // (drr/visual_hull.hpp); neither: the filter is skipped, and said so.
        std::optional<core::VolumeU8> lungs;
        std::string why, source;
        if (!ct.empty()) {
          try {
            lungs = data::segment_lungs(drr::load_render_input(ct).hu).labels;
            source = "ct";
            entry["ct"] = ct.string();
          } catch (const core::InputError& e) {  // a CT without two lungs found: say so, try the views
            why = core::cat("lung segmentation of '", ct.string(), "' failed: ", e.what());
            core::log::warn("predict: ", views.case_id, ": ", why);
          }
        }
        if (!lungs) {
          try {
            const drr::ViewsLungs fit = drr::lungs_from_views(s);
            std::string model, note;
            const data::LungSegmentation best = views_lungs(fit, model, note);
            lungs = best.labels;
            source = "views";
            entry["views_lung_model"] = model;
            entry["views_lung_ml"] = best.total_ml();
          } catch (const core::ConfigError&) {
            throw;
          } catch (const core::InputError& e) {  // e.g. no lung field in the views: predict anyway
            why += core::cat(why.empty() ? "" : "; ", "lung model from the views failed: ", e.what());
            core::log::warn("predict: ", views.case_id, ": ", why, "; lung filter skipped");
          }
        }
        if (lungs) {
          auto kept = data::keep_inside_lungs(boxes, *lungs, data::kLungFilterMarginMm);
          entry["lung_source"] = source;
          entry["removed"] = kept.removed.size();
          entry["removed_ids"] = nlohmann::json::array();
          for (const auto& b : kept.removed) entry["removed_ids"].push_back(b.id);
          lung_removed += kept.removed.size();
          ++lung_filtered;
          ++(source == "ct" ? lung_by_ct : lung_by_views);
          boxes = std::move(kept.kept);
        } else {
          entry["lung_source"] = "none";
          entry["skipped"] = why + ": filter skipped";
          ++lung_skipped;
        }
        lung_cases.push_back(std::move(entry));
      }
      // The dense-material rule (drr/dense_filter.hpp), from the views' line integrals only: estimated for every
      // prediction (and, as a diagnostic, every truth box); removal only when enabled.
      {
        const auto td = std::chrono::steady_clock::now();
        nlohmann::json entry = {{"case_id", views.case_id}, {"predictions", boxes.size()}};
        try {
          drr::DenseFilterOptions o = dense_options;
          const auto dense = drr::dense_views(s, &o.mu_water_per_mm);
          const auto result = drr::filter_dense(boxes, dense, o);
          const auto estimate_json = [](const drr::DenseEstimate& e) {
            return nlohmann::json{{"excess_hu", e.excess_hu ? nlohmann::json(std::round(*e.excess_hu * 10) / 10)
                                                            : nlohmann::json(nullptr)},
                                  {"views", e.views},
                                  {"min_view", e.min_view},
                                  {"width_mm", std::round(e.width_mm * 100) / 100},
                                  {"per_view", [&] {  // [view, HU, equivalent chord mm] of every view that gave one
                                     nlohmann::json a = nlohmann::json::array();
                                     for (const auto& v : e.per_view)
                                       a.push_back({v.view, std::round(v.excess_hu), std::round(v.width_mm * 10) / 10});
                                     return a;
                                   }()}};
          };
          nlohmann::json estimates = nlohmann::json::array(), truth_estimates = nlohmann::json::array();
          for (std::size_t i = 0; i < boxes.size(); ++i) {
            nlohmann::json j = estimate_json(result.estimates[i]);
            j["id"] = boxes[i].id, j["score"] = boxes[i].score, j["removed"] = bool(result.rejected[i]);
            j["center_mm"] = {boxes[i].box.center.x(), boxes[i].box.center.y(), boxes[i].box.center.z()};
            estimates.push_back(std::move(j));
          }
          for (const auto& t : views.truth) {
            nlohmann::json j = estimate_json(drr::estimate_dense_excess(dense, t.box.center, o));
            j["id"] = t.id, j["ignore"] = t.ignore, j["diameter_mm"] = t.diameter(), j["texture"] = t.texture;
            j["center_mm"] = {t.box.center.x(), t.box.center.y(), t.box.center.z()};
            truth_estimates.push_back(std::move(j));
          }
          entry["mu_water_per_mm"] = o.mu_water_per_mm;
          entry["removed"] = result.removed.size();
          entry["removed_ids"] = nlohmann::json::array();
          for (const auto& b : result.removed) entry["removed_ids"].push_back(b.id);
          entry["estimates"] = std::move(estimates);
          entry["truth_estimates"] = std::move(truth_estimates);
          dense_removed += result.removed.size();
          ++dense_filtered;
          if (dense_options.enabled) boxes = result.kept;
        } catch (const core::ConfigError&) {
          throw;
        } catch (const core::InputError& e) {  // e.g. a view set without line integrals: predict anyway
          entry["skipped"] = core::cat(e.what(), ": filter skipped");
          core::log::warn("predict: ", views.case_id, ": dense filter skipped: ", e.what());
          ++dense_skipped;
        }
        entry["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - td).count();
        dense_cases.push_back(std::move(entry));
      }
      predictions.case_for(views.case_id).boxes = boxes;
      truth.case_for(views.case_id).boxes = views.truth;
      for (std::size_t v = 0; v < views.cameras.size(); ++v)
        detections.push_back(image_detections(views.case_id, views.cameras[v], pred.detections[v]));
      progress.set_status(core::cat(views.case_id, ": ", boxes.size(), " boxes"));
      progress.tick();
      loaded.push_back(std::move(views));
      sets.push_back(s), case_dirs.push_back(case_dir), ct_inputs.push_back(ct);
    };
    // An interrupt stops between cases, and after the last one too (core::for_each_unit: exit 130 whenever one
    // was received). Every output but the rendered views covers the whole set (one predictions file, one eval),
    // so none is written for part of it: a predictions file of K of N cases would pass for the whole set, and its
    // eval would score a partial set as if complete. The finished case folders under <out>_views/ are whole and
    // kept; the rerun of the same command reuses them.
    try {
      core::for_each_unit("predict", units.size(), "case(s)", predict_unit);
    } catch (const core::Interrupted& e) {
      cleanup.paths.erase(std::remove(cleanup.paths.begin(), cleanup.paths.end(), views_root), cleanup.paths.end());
      const std::string kept = rendered ? core::cat("; the views of the ", rendered, " finished case(s) stay in ",
                                                    views_root.string(), "/ and a rerun reuses them")
                                        : std::string();
      throw core::Interrupted(core::cat(e.what(), "; nothing written: the predictions", opt->eval ? ", the eval" : "",
                                        " and the other outputs are written for the whole set only",
                                        opt->eval ? " (no eval of a partial set)" : "", kept));
    }
    progress.finish();

    std::vector<std::string> written;
    const fs::path det_file = sibling(out, ".detections2d.json");
    if (!opt->no_overlays) {
      const fs::path overlays = sibling(out, "_overlays");
      cleanup.paths.push_back(overlays);
      core::write_folder_atomic(overlays, [&](const fs::path& tmp) {
        for (const auto& views : loaded) {
          const auto& preds = predictions.find(views.case_id)->boxes;
          for (std::size_t v = 0; v < views.cameras.size(); ++v) {
            std::vector<float> scores;
            detect2d::ImageDetections d;
            d.boxes = detect2d::box_tensor(projected(views.cameras[v], preds, &scores));
            d.scores = torch::from_blob(scores.data(), {static_cast<int64_t>(scores.size())}, torch::kFloat).clone();
            detect2d::write_overlay_png(tmp / (views.case_id + "_" + views.cameras[v].name() + ".png"), views.images[v],
                                        detect2d::box_tensor(projected(views.cameras[v], views.truth, nullptr)), d,
                                        opt->overlay_score);
          }
        }
      });
      written.push_back(overlays.string() + "/  projected 3D predictions (red) and truth (green) per view");
    }
    if (opt->heatmap) {
      const fs::path heatmaps = sibling(out, "_heatmaps");
      cleanup.paths.push_back(heatmaps);
      core::write_folder_atomic(heatmaps, [&](const fs::path& tmp) {
        for (const auto& [id, volume] : evidence) data::write_nrrd(tmp / (id + ".nrrd"), volume);
      });
      written.push_back(heatmaps.string() + "/  3D evidence per case (probability, float NRRD, world frame)");
    }
    std::optional<eval::Eval3DResult> result;
    if (opt->eval) {
      const auto cases =
          eval::pair_cases(truth, "truth of the view sets", predictions, out.string(), eval_options.truth_filter);
      result = eval::evaluate_3d(cases, eval_options);
      const fs::path eval_dir = sibling(out, "_eval");
      cleanup.paths.push_back(eval_dir);
      core::write_folder_atomic(eval_dir, [&](const fs::path& tmp) {
        eval::write_report_3d(tmp, *result, eval_options, {"truth of the view sets", out.string()});
        // The truth scored against, so that runs of other weights or methods on the same views can be compared
        // with `xraylift eval --truth <out>_eval/truth.json --compare ...` (docs/eval.md "Comparing two sets").
        core::write_box_set(tmp / "truth.json", truth);
      });
      written.push_back(eval_dir.string() + "/  metrics.json, summary.md, froc.png, pr_curves.png, truth.json");
    }
    if (!opt->scene.empty()) {
      viz::SceneInputs si;
      const fs::path truth_file = sibling(out, ".truth.json");
      // The best lung model: the CT (a case input, or the case folder a view set was rendered from), else the one
      // fitted to the views, else (the fit failing) the template; the scene says which (lung nodes' lung_model).
      const fs::path ct = !case_dirs.front().empty() ? case_dirs.front() : ct_inputs.front();
      std::error_code ec;
      if (!ct.empty() && (fs::exists(ct / "case.json", ec) || fs::is_directory(ct, ec))) {
        si.ct = ct.string();
        si.ct_truth = !case_dirs.front().empty();
        if (!si.ct_truth) si.box_files.push_back(truth_file.string());
      } else {
        si.views = sets.front().string();
        si.views_lungs = tools::views_lungs_function();
        si.generic = viz::PatientSpec{};
        si.box_files.push_back(truth_file.string());
      }
      si.box_files.push_back(out.string());
      si.case_id = loaded.front().case_id;
      core::write_box_set(out, predictions);  // the scene reads the box files
      core::write_box_set(truth_file, truth);
      cleanup.paths.push_back(out);
      cleanup.paths.push_back(truth_file);
      const auto scene = viz::load_scene(si, rig);
      viz::write_scene(opt->scene, scene.scene);
      for (const auto& n : scene.notes) core::log::info("predict --scene: ", n);
      written.push_back(opt->scene + "  " + scene.lung_source + " lung model with predictions (red) and truth (green)");
    }
    core::write_file_atomic(det_file, detect2d::detections_json(detections).dump(1) + "\n");
    const fs::path lung_file = sibling(out, ".lung_filter.json");
    const nlohmann::json lung_doc = {{"format", "xraylift.lung_filter"},
                                     {"version", 1},
                                     {"enabled", !opt->keep_outside_lungs},
                                     {"rule",
                                      "kept: the centre's nearest voxel is in the lung mask (lung_source per case: "
                                      "ct = the CT's, data::segment_lungs; views = the visual hull of the views' "
                                      "lung fields, drr::lungs_from_views), or the box grown by margin_mm holds a "
                                      "lung voxel centre"},
                                     {"margin_mm", data::kLungFilterMarginMm},
                                     {"removed", lung_removed},
                                     {"cases_filtered", lung_filtered},
                                     {"cases_by_ct", lung_by_ct},
                                     {"cases_by_views", lung_by_views},
                                     {"cases_skipped", lung_skipped},
                                     {"cases", lung_cases}};
    core::write_file_atomic(lung_file, lung_doc.dump(1) + "\n");
    const fs::path dense_file = sibling(out, ".dense_filter.json");
    const nlohmann::json dense_doc = {
        {"format", "xraylift.dense_filter"},
        {"version", 1},
        {"enabled", dense_options.enabled},
        {"rule",
         "per view at the projected centre: mu = pi h^2 / (4 A) of the line-integral profile above its local baseline "
         "(exact for a sphere or a cylinder crossed perpendicularly), the largest over directions, as "
         "water-equivalent HU 1000 mu / mu_water; the smallest over the views; removed when at least min_views "
         "views give one and it exceeds max_excess_hu (drr/dense_filter.hpp)"},
        {"max_excess_hu", dense_options.max_excess_hu},
        {"min_views", dense_options.min_views},
        {"removed", dense_removed},
        {"cases_filtered", dense_filtered},
        {"cases_skipped", dense_skipped},
        {"cases", dense_cases}};
    core::write_file_atomic(dense_file, dense_doc.dump(1) + "\n");
    core::write_box_set(out, predictions);
    cleanup.armed = false;
    core::throw_if_interrupted(core::cat("predict: every output of the ", sets.size(), " case(s) written"));

    core::log::info(
        "predict: ", sets.size(), " case(s), ", predictions.box_count(), " boxes (", predictor.method(),
        "), inference ", std::lround(1000.0 * seconds / std::max<std::size_t>(1, sets.size())), " ms per case on ",
        opt->device, ", ",
        core::Progress::format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()),
        " in all");
    if (opt->keep_outside_lungs)
      core::log::info("predict: lung filter off (--keep-outside-lungs)");
    else
      core::log::info("predict: lung filter removed ", lung_removed, " prediction(s) outside the lungs in ",
                      lung_filtered, " case(s) (", lung_by_ct, " by the CT, ", lung_by_views,
                      " by the lung model fitted to the views)",
                      lung_skipped ? core::cat("; skipped for ", lung_skipped,
                                               " case(s) without a CT and without a lung model from the views")
                                   : std::string());
    if (!dense_options.enabled)
      core::log::info("predict: dense filter off (--keep-dense or detect3d.dense_filter.enabled: false)");
    else
      core::log::info("predict: dense filter removed ", dense_removed, " prediction(s) above ",
                      dense_options.max_excess_hu, " water-equivalent HU in ", dense_filtered, " case(s)",
                      dense_skipped ? core::cat("; skipped for ", dense_skipped, " case(s) without line integrals")
                                    : std::string());
    if (result) {
      const auto& m = result->overall;
      auto at = [&](double rate) {
        for (std::size_t i = 0; i < m.froc.fp_rates.size(); ++i)
          if (std::abs(m.froc.fp_rates[i] - rate) < 1e-9) return m.froc.sensitivity_at_rates[i];
        return -1.0;
      };
      core::log::info("eval: CPM ", eval::format_metric(m.froc.cpm), ", sensitivity ", eval::format_metric(at(1)),
                      " at 1 FP/scan, ", eval::format_metric(at(4)), " at 4, mAP ", eval::format_metric(m.map),
                      ", ATE ", eval::format_metric(m.ate_mm, 2), " mm (", m.num_truths, " truths, ", m.num_predictions,
                      " predictions)");
    }
    core::log::info("outputs:");
    core::log::info("  ", out.string(), "  3D predictions (xraylift.boxes3d)");
    core::log::info("  ", det_file.string(), "  2D detections (xraylift.boxes2d)");
    core::log::info("  ", lung_file.string(), "  lung filter: removed predictions per case");
    core::log::info("  ", dense_file.string(), "  dense filter: estimates and removed predictions per case");
    if (fs::exists(views_root)) core::log::info("  ", views_root.string(), "/  rendered views of the case inputs");
    for (const auto& w : written) core::log::info("  ", w);
    return 0;
  };
}

}  // namespace predict_command

XL_REGISTER_COMMAND("predict",
                    "Radiographs -> 3D nodule boxes (a registered detect3d method), with overlays, eval, scene",
                    predict_command::setup);
