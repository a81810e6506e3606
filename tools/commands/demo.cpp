// `xraylift demo`: the pipeline on an embedded default, with nothing to download: a synthetic chest phantom with
// known nodules (data) -> its case folder -> ten DRRs through the ring with ground-truth 2D boxes and overlays
// (drr) -> 2D detections and 3D boxes with every registered detect3d method from the shipped tiny weights
// (models/<method>.safetensors, else models/demo_tiny.safetensors, made by scripts/train_demo_model.sh) -> the eval
// report (CPM, mAP, ATE) -> a 3D scene of its lung model with the best method's predictions next to the truth (viz).
// Without the weights file the detection stages are skipped with the reason.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/detect3d/job.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/eval/cases3d.hpp"
#include "xraylift/eval/evaluate3d.hpp"
#include "xraylift/eval/report.hpp"
#include "xraylift/viz/export.hpp"
#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/lung_segmentation.hpp"
#include "xraylift/viz/scene.hpp"

extern const char* const kDemoDetect3DConfig;  // configs/detect3d/cpu_small.yaml, embedded at build time

namespace fs = std::filesystem;
using namespace xraylift;

// Named, not anonymous: the torch commands are compiled as one unity file (docs/BUILDING.md "Build time").
namespace demo_command {

std::string seconds_since(std::chrono::steady_clock::time_point t0) {
  return core::Progress::format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// models/<method>.safetensors when the method has its own file, else the shared demo weights (one file with the 2D
// detector and every trained head), from the working folder or the source tree.
fs::path default_weights(const std::string& method) {
  for (const fs::path& root : {fs::path("."), fs::path(XRAYLIFT_SOURCE_DIR)})
    for (const fs::path& name :
         {fs::path("models") / (method + ".safetensors"), fs::path("models/demo_tiny.safetensors")})
      if (fs::exists(root / name)) return root / name;
  return fs::path("models/demo_tiny.safetensors");
}

struct Detected {
  std::string method;
  std::vector<core::BoxRecord> boxes;
  eval::Eval3DResult result;
  double seconds = 0;
};

struct Options {
  std::string out = "demo-out";
  std::string weights;
  int render_size = 256;
  int seed = 1;
  std::string anatomy = "chest";
  std::unique_ptr<tools::ConfigOptions> config;
};

// 3/5 detection with every registered method and 4/5 evaluation; no results (the reason logged) when the weights
// are absent or were trained on another rig (e.g. --render-size other than theirs). Best CPM first.
std::vector<Detected> detect_and_evaluate(const std::string& weights_option, const core::Rig& rig,
                                          const fs::path& infos, const fs::path& out) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto job =
      detect3d::Detect3DJob::from_config(core::Config::from_yaml(kDemoDetect3DConfig, "embedded cpu_small.yaml"));
  const auto views = detect3d::load_views(infos, job.data);
  core::BoxSet truth;
  truth.case_for(views.case_id).boxes = views.truth;
  eval::Eval3DOptions eo;
  eo.bootstrap_samples = 0;
  eo.breakdowns = false;
  std::vector<Detected> detected;
  for (const auto& spec : detect3d::registered_methods()) {
    const fs::path weights = weights_option.empty() ? default_weights(spec.name) : fs::path(weights_option);
    if (!fs::exists(weights)) {
      core::log::warn("3/5 detect: skipped: no weights file '", weights.string(),
                      "' (make it with INSTALL=1 scripts/train_demo_model.sh, or pass --weights)");
      return {};
    }
    std::optional<detect3d::Predictor> loaded;
    try {  // a method whose weights are not shipped yet is skipped, the others still run; a broken file is an error
      loaded.emplace(job, spec.name, weights, torch::kCPU);
    } catch (const detect3d::NoWeightsForMethod& e) {
      core::log::warn("3/5 detect ", spec.name, ": skipped: ", e.what());
      continue;
    }
    auto& predictor = *loaded;
    try {
      core::check_rig(predictor.rig(), rig.cameras(), "demo rig");
    } catch (const core::InputError& e) {
      core::log::warn("3/5 detect: skipped: ", e.what());
      return {};
    }
    Detected d;
    d.method = spec.name;
    const auto p = predictor.predict({views.images, views.cameras, infos.string()});
    d.boxes = p.boxes;
    d.seconds = p.seconds;
    core::BoxSet preds;
    preds.source = core::BoxSource::kPrediction;
    preds.case_for(views.case_id).boxes = d.boxes;
    core::write_box_set(out / ("pred_" + d.method + ".json"), preds);
    d.result = eval::evaluate_3d(eval::pair_cases(truth, "demo truth", preds, d.method), eo);
    detected.push_back(std::move(d));
  }
  if (detected.empty()) return {};
  std::string counts;
  for (const auto& d : detected)
    counts += core::cat(counts.empty() ? "" : ", ", d.boxes.size(), " ", d.method, " (", std::lround(1000 * d.seconds),
                        " ms)");
  core::log::info("3/5 detect: boxes ", counts, ", ", seconds_since(t0), " in all");
  for (const auto& d : detected) {
    const auto& m = d.result.overall;
    core::log::info("4/5 eval ", d.method, ": CPM ", eval::format_metric(m.froc.cpm), ", mAP ",
                    eval::format_metric(m.map), ", ATE ", eval::format_metric(m.ate_mm, 2), " mm (", m.num_truths,
                    " nodules, ", m.num_predictions, " predictions)");
  }
  std::stable_sort(detected.begin(), detected.end(), [](const Detected& a, const Detected& b) {
    return a.result.overall.froc.cpm > b.result.overall.froc.cpm;
  });
  const auto& best = detected.front();
  core::write_folder_atomic(out / "eval", [&](const fs::path& tmp) {
    eval::write_report_3d(tmp, best.result, eo, {"demo truth", (out / ("pred_" + best.method + ".json")).string()});
  });
  return detected;
}

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("-o,--out", opt->out, "Output folder")->capture_default_str();
  app.add_option("--render-size", opt->render_size, "Detector pixels (N x N) of the demo DRRs")
      ->check(CLI::Range(16, 2048))
      ->capture_default_str();
  app.add_option("--seed", opt->seed, "Phantom seed")->capture_default_str();
  // chest: the anatomy the shipped fusion weights were trained on (docs/data.md "Phantoms").
  app.add_option("--anatomy", opt->anatomy, "Phantom anatomy model: chest | simple (docs/data.md \"Phantoms\")")
      ->capture_default_str();
  app.add_option("--weights", opt->weights, "detect3d weights (default: models/demo_tiny.safetensors)");
  opt->config = std::make_unique<tools::ConfigOptions>(app);
  return [opt] {
    core::Config cfg = opt->config->load();
    const core::Rig rig = cfg.has("rig") ? core::Rig::from_config(cfg.section("rig")) : core::Rig::ring({});
    cfg.check_no_unknown_keys();
    const fs::path out(opt->out);

    auto t0 = std::chrono::steady_clock::now();
    data::PhantomSpec spec;
    spec.seed = static_cast<std::uint64_t>(opt->seed);
    spec.anatomy = data::parse_phantom_anatomy(opt->anatomy, "demo --anatomy");
    // Pinned rather than PhantomSpec's default: the demo draws the chest model the shipped fusion weights were
    // trained on (docs/data.md "Anatomy models"), whatever the default becomes.
    spec.chest_version = 2;
    spec.id = "demo-phantom";
    spec.nodules = 4;
    spec.nodule_min_diameter_mm = 8;
    spec.nodule_max_diameter_mm = 20;
    const data::Phantom phantom = data::generate_phantom(spec);
    const fs::path case_dir = out / "case";
    data::save_case(case_dir, phantom.ct);
    core::log::info("1/5 data: phantom '", phantom.ct.id, "' ", phantom.ct.hu.dims().transpose(), " voxels, ",
                    phantom.ct.nodules.size(), " nodules (", seconds_since(t0), ")");

    t0 = std::chrono::steady_clock::now();
    drr::RenderOptions options;
    options.mask = true;
    const core::Rig small = rig.with_detector_width(opt->render_size);
    const fs::path drr_dir = out / "drr";
    const drr::RenderCaseResult rendered = drr::render_case(phantom.ct, small, options, {}, drr_dir);
    core::log::info("2/5 drr: ", small.size(), " views of ", small[0].width(), " x ", small[0].height(), " px (",
                    std::lround(rendered.render_seconds * 1000), " ms rendering, ", seconds_since(t0), " with files)");

    const std::vector<Detected> detected = detect_and_evaluate(opt->weights, small, drr_dir / "infos.json", out);

    t0 = std::chrono::steady_clock::now();
    const viz::LungModel lungs = viz::build_lung_model(viz::segment_lungs(phantom.ct.hu));
    viz::Scene scene = viz::make_scene(lungs, phantom.ct.nodules);
    if (!detected.empty()) {
      std::vector<core::BoxRecord> shown;
      for (const auto& b : detected[0].boxes)
        if (b.score >= 0.3) shown.push_back(b);
      viz::add_nodules(scene, shown);
    }
    const fs::path glb = out / "scene.glb";
    const fs::path html = out / "scene.html";
    viz::write_scene(glb.string(), scene);
    viz::write_scene(html.string(), scene);
    core::log::info("5/5 viz: lung model ", std::lround(lungs.total_ml()), " mL, ", phantom.ct.nodules.size(),
                    " nodules, ", scene.triangle_count(), " triangles (", seconds_since(t0), ")");

    core::log::info("outputs:");
    core::log::info("  ", case_dir.string(), "/  case folder (volume.nrrd, nodules.json, case.json)");
    core::log::info("  ", (drr_dir / "infos.json").string(), "  cameras, 3D and 2D ground-truth boxes");
    core::log::info("  ", drr_dir.string(),
                    "/viewNN.png|.npy|_overlay.png|_mask.png  radiographs, line integrals, overlays");
    const std::string shown_method = detected.empty() ? std::string("no") : detected.front().method;
    for (const auto& d : detected)
      core::log::info("  ", (out / ("pred_" + d.method + ".json")).string(), "  ", d.method,
                      " 3D predictions (xraylift.boxes3d)");
    if (!detected.empty())
      core::log::info("  ", (out / "eval").string(), "/  eval report of ", shown_method,
                      ", the best CPM (metrics.json, summary.md, froc.png)");
    core::log::info("  ", glb.string(), ", ", html.string(), "  3D scene, truth green, ", shown_method,
                    " predictions red (open the .html)");
    if (!detected.empty()) {
      std::vector<const Detected*> by_name;
      for (const auto& d : detected) by_name.push_back(&d);
      std::sort(by_name.begin(), by_name.end(),
                [](const Detected* a, const Detected* b) { return a->method < b->method; });
      std::string line = "demo CPM";
      for (const auto* d : by_name)
        line += core::cat(d == by_name.front() ? " " : ", ", "(", d->method,
                          "): ", eval::format_metric(d->result.overall.froc.cpm));
      std::printf("%s\n", line.c_str());
    }
    return 0;
  };
}

}  // namespace demo_command

XL_REGISTER_COMMAND(
    "demo", "Run the pipeline on an embedded default: phantom -> ten DRRs -> 2D + 3D detection -> eval -> 3D scene",
    demo_command::setup);
