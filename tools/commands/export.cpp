// `xraylift export`: lung model + nodule scene from a CT (or the synthetic chest, or a generic model), written
// as .glb / .obj / .ply / .html, and optionally a turntable (PNG frames or a video) for reports.
#include <chrono>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/viz/export.hpp"
#include "xraylift/viz/scene_source.hpp"
#include "xraylift/viz/turntable.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

struct Options {
  viz::SceneInputs in;
  std::string sex, shape = "sphere";
  double age = 0, height_cm = 0;
  std::vector<std::string> outputs;
  std::string turntable;
  int frames = 36;
  std::string size = "640x480";
  std::string mode = "both";
  double lung_opacity = 0.35;
  bool check = false;
  std::string viewer;  // empty: the config's viz.viewer, else webgl
  std::unique_ptr<tools::ConfigOptions> config;
};

cv::Size parse_size(const std::string& s) {
  int w = 0, h = 0;
  char x = 0;
  if (std::sscanf(s.c_str(), "%d%c%d", &w, &x, &h) != 3 || x != 'x' || w <= 0 || h <= 0)
    throw core::ConfigError(core::cat("size '", s, "': expected WIDTHxHEIGHT, e.g. 640x480"));
  return {w, h};
}

tools::Runner setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--ct", o->in.ct, "CT input: a DICOM series folder or a case folder (case.json)");
  app.add_flag("--synthetic", o->in.synthetic, "Use the built-in synthetic chest instead of a CT");
  app.add_option("--phantom", o->in.phantom_seed,
                 "Use a synthetic phantom of the data module (this seed) with its truth nodules");
  app.add_option("--views", o->in.views,
                 "X-rays without a CT: a view set (infos.json) whose lung model is fitted to its views (visual hull of "
                 "the lung fields); with --generic, the template is the fallback when the fit fails");
  app.add_option("--generic", o->sex, "Generic lung model for this sex (male|female); with --age and --height");
  app.add_option("--age", o->age, "Patient age in years (generic model)");
  app.add_option("--height", o->height_cm, "Patient height in cm (generic model)");
  app.add_option("--boxes", o->in.box_files, "xraylift.boxes3d files (truth and/or predictions); repeatable");
  app.add_option("--case-id", o->in.case_id, "Case to take from the box files (default: the CT's id or the only case)");
  app.add_option("--attention", o->in.attention_map, "2D attention/heat map over one rig view (image file)");
  app.add_option("--attention-view", o->in.attention_view, "Rig view index of the attention map")
      ->capture_default_str();
  app.add_option("--evidence", o->in.evidence,
                 "3D evidence volume (NRRD in the world frame, int16 in 1/10000, e.g. predict --heatmap): spheres at "
                 "its peaks, coloured by probability");
  app.add_option("--evidence-threshold", o->in.evidence_options.threshold, "Smallest evidence peak shown (0..1]")
      ->capture_default_str();
  app.add_option("--evidence-peaks", o->in.evidence_options.max_peaks, "Most evidence peaks shown")
      ->capture_default_str();
  app.add_option("--evidence-iso", o->in.evidence_options.iso,
                 "Also the evidence iso-surface at this probability (0 = none)")
      ->capture_default_str();
  app.add_option("--nodule-shape", o->shape, "box | sphere | both")->capture_default_str();
  app.add_option("--lung-opacity", o->lung_opacity, "Lung shell opacity 0..1")->capture_default_str();
  app.add_option("--triangles", o->in.lung.target_triangles, "Triangle budget of the lung model")
      ->capture_default_str();
  app.add_option("--voxel-mm", o->in.lung.voxel_mm, "Mask resolution for the surface (mm)")
      ->capture_default_str()
      ->check(tools::within(0.1, 50));
  app.add_option("-o,--out", o->outputs, "Scene files to write: .glb, .obj (+ .mtl), .ply, .html; repeatable");
  app.add_option("--turntable", o->turntable, "Turntable output: a folder of PNG frames, or a .mp4/.avi file");
  app.add_option("--frames", o->frames, "Turntable frames (one turn)")->capture_default_str();
  app.add_option("--size", o->size, "Turntable frame size WIDTHxHEIGHT")->capture_default_str();
  app.add_option("--mode", o->mode, "Turntable display mode: both | lungs | nodules")->capture_default_str();
  app.add_option("--viewer", o->viewer,
                 "HTML viewer renderer: webgl (own, small) | three (three.js from libjs-three inlined); default: the "
                 "config's viz.viewer, else webgl (docs/viz.md)");
  app.add_flag("--check", o->check, "Read every written .glb/.ply back and compare counts");
  o->config = std::make_unique<tools::ConfigOptions>(app);
  return [o] {
    core::Config cfg = o->config->load();
    const core::Rig rig = cfg.has("rig") ? core::Rig::from_config(cfg.section("rig")) : core::Rig::ring({});
    const std::string viewer_name = !o->viewer.empty() ? o->viewer : cfg.get<std::string>("viz.viewer", "webgl");
    cfg.check_no_unknown_keys();
    if (!o->sex.empty()) o->in.generic = viz::PatientSpec{viz::parse_sex(o->sex), o->age, o->height_cm};
    o->in.style.nodule_shape = viz::parse_nodule_shape(o->shape);
    XL_USAGE_CHECK(o->lung_opacity >= 0 && o->lung_opacity <= 1, "--lung-opacity ", o->lung_opacity,
                   ": expected 0 .. 1");
    o->in.style.lung_rgba[3] = float(o->lung_opacity);
    const viz::DisplayMode mode = viz::parse_display_mode(o->mode);
    const viz::HtmlViewer viewer = viz::parse_html_viewer(viewer_name);
    const cv::Size size = parse_size(o->size);
    if (o->outputs.empty() && o->turntable.empty())
      throw core::ConfigError("export: nothing to write (give -o FILE and/or --turntable OUT)");

    for (const auto& out : o->outputs) {
      const std::string ext = fs::path(out).extension().string();
      if (ext != ".glb" && ext != ".obj" && ext != ".ply" && ext != ".html")
        throw core::ConfigError(
            core::cat("scene output ", out, ": extension '", ext, "' is not one of .glb, .obj, .ply, .html"));
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (!o->in.views.empty()) o->in.views_lungs = tools::views_lungs_function();
    const viz::LoadedScene loaded = viz::load_scene(o->in, rig);
    for (const auto& n : loaded.notes) core::log::info(n);
    core::log::info("scene: lung model from ", loaded.lung_source);
    core::log::info("scene: ", loaded.scene.nodes.size(), " nodes, ", loaded.scene.triangle_count(), " triangles, ",
                    loaded.nodule_count, " nodules, lung model ", loaded.lungs.total_ml(), " mL (",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), " s)");
    for (const auto& out : o->outputs) {
      viz::write_scene(out, loaded.scene, viewer);
      if (o->check) {
        const std::string ext = fs::path(out).extension().string();
        if (ext == ".glb") {
          const auto meshes = viz::read_glb(out);
          XL_CHECK(meshes.size() == loaded.scene.nodes.size(), "check ", out, ": ", meshes.size(),
                   " meshes read back, ", loaded.scene.nodes.size(), " written");
        } else if (ext == ".ply") {
          const auto s = viz::read_ply(out);
          XL_CHECK(s.triangle_count == loaded.scene.triangle_count(), "check ", out, ": triangle count differs");
        }
      }
      core::log::info("wrote ", out);
    }
    if (!o->turntable.empty()) {
      viz::RenderOptions ro;
      ro.mode = mode;
      ro.lung_opacity = o->lung_opacity;
      const viz::SceneRenderer renderer(loaded.scene);
      std::vector<cv::Mat> frames;
      core::Progress progress("turntable", o->frames);
      XL_USAGE_CHECK(o->frames >= 1 && o->frames <= 3600, "--frames ", o->frames, ": expected 1 .. 3600");
      for (int i = 0; i < o->frames; ++i) {
        frames.push_back(viz::render_view(renderer, 360.0 * i / o->frames, size, ro));
        progress.tick();
      }
      progress.finish();
      const auto written = viz::write_frames(o->turntable, frames);
      core::log::info("wrote ", o->turntable, " (", written.size() == 1 ? "video of " : "", frames.size(), " frames)");
    }
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("export", "Lung model and nodule scene to glTF/OBJ/PLY/HTML, turntable renders", setup);
