// `xraylift demo`: the pipeline on an embedded default, with nothing to download: a synthetic chest phantom with
// known nodules (data) -> its case folder -> ten DRRs through the ring with ground-truth 2D boxes and overlays
// (drr) -> a 3D scene of its lung model and nodules (viz). Stages that need trained weights join when they exist.
#include <chrono>
#include <cmath>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/viz/export.hpp"
#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/lung_segmentation.hpp"
#include "xraylift/viz/scene.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

std::string seconds_since(std::chrono::steady_clock::time_point t0) {
  return core::Progress::format_duration(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

struct Options {
  std::string out = "demo-out";
  int render_size = 256;
  int seed = 1;
  std::unique_ptr<tools::ConfigOptions> config;
};

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("-o,--out", opt->out, "Output folder")->capture_default_str();
  app.add_option("--render-size", opt->render_size, "Detector pixels (N x N) of the demo DRRs")
      ->check(CLI::Range(16, 2048))
      ->capture_default_str();
  app.add_option("--seed", opt->seed, "Phantom seed")->capture_default_str();
  opt->config = std::make_unique<tools::ConfigOptions>(app);
  return [opt] {
    core::Config cfg = opt->config->load();
    const core::Rig rig = cfg.has("rig") ? core::Rig::from_config(cfg.section("rig")) : core::Rig::ring({});
    cfg.check_no_unknown_keys();
    const fs::path out(opt->out);

    auto t0 = std::chrono::steady_clock::now();
    data::PhantomSpec spec;
    spec.seed = static_cast<std::uint64_t>(opt->seed);
    spec.id = "demo-phantom";
    spec.nodules = 4;
    spec.nodule_min_diameter_mm = 8;
    spec.nodule_max_diameter_mm = 20;
    const data::Phantom phantom = data::generate_phantom(spec);
    const fs::path case_dir = out / "case";
    data::save_case(case_dir, phantom.ct);
    core::log::info("1/3 data: phantom '", phantom.ct.id, "' ", phantom.ct.hu.dims().transpose(), " voxels, ",
                    phantom.ct.nodules.size(), " nodules (", seconds_since(t0), ")");

    t0 = std::chrono::steady_clock::now();
    drr::RenderOptions options;
    options.mask = true;
    const core::Rig small = rig.with_detector_width(opt->render_size);
    const fs::path drr_dir = out / "drr";
    const drr::RenderCaseResult rendered = drr::render_case(phantom.ct, small, options, {}, drr_dir);
    core::log::info("2/3 drr: ", small.size(), " views of ", small[0].width(), " x ", small[0].height(), " px (",
                    std::lround(rendered.render_seconds * 1000), " ms rendering, ", seconds_since(t0), " with files)");

    t0 = std::chrono::steady_clock::now();
    const viz::LungModel lungs = viz::build_lung_model(viz::segment_lungs(phantom.ct.hu));
    const viz::Scene scene = viz::make_scene(lungs, phantom.ct.nodules);
    const fs::path glb = out / "scene.glb";
    const fs::path html = out / "scene.html";
    viz::write_scene(glb.string(), scene);
    viz::write_scene(html.string(), scene);
    core::log::info("3/3 viz: lung model ", std::lround(lungs.total_ml()), " mL, ", phantom.ct.nodules.size(),
                    " nodules, ", scene.triangle_count(), " triangles (", seconds_since(t0), ")");

    core::log::info("outputs:");
    core::log::info("  ", case_dir.string(), "/  case folder (volume.nrrd, nodules.json, case.json)");
    core::log::info("  ", (drr_dir / "infos.json").string(), "  cameras, 3D and 2D ground-truth boxes");
    core::log::info("  ", drr_dir.string(), "/viewNN.png|.npy|_overlay.png|_mask.png  radiographs, line integrals, overlays");
    core::log::info("  ", glb.string(), ", ", html.string(), "  3D scene (open the .html in a browser)");
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("demo", "Run the pipeline on an embedded default: phantom -> ten DRRs -> 3D scene", setup);
