// `xraylift demo`: the main job on an embedded default. Today: the seed ring rig and a few example nodules,
// projected into every view (the geometry every later stage relies on), written as JSON files; then a built-in
// synthetic chest phantom (data module) rendered through the ring at 256 x 256 (drr module): 16-bit DRRs, line
// integrals, overlays with the ground-truth 2D boxes and infos.json in <out>/drr/.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/box_set.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/drr/render_case.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

nlohmann::json camera_json(const core::Camera& cam) {
  const auto K = cam.K();
  const auto R = cam.rotation();
  const auto t = cam.translation();
  return {{"name", cam.name()},
          {"width", cam.width()},
          {"height", cam.height()},
          {"K", {{K(0, 0), K(0, 1), K(0, 2)}, {K(1, 0), K(1, 1), K(1, 2)}, {K(2, 0), K(2, 1), K(2, 2)}}},
          {"R", {{R(0, 0), R(0, 1), R(0, 2)}, {R(1, 0), R(1, 1), R(1, 2)}, {R(2, 0), R(2, 1), R(2, 2)}}},
          {"t", {t.x(), t.y(), t.z()}}};
}

// A modest detector for the demo render: the same field as the configured rig, 256 x 256 pixels.
core::Rig demo_render_rig(const core::Rig& rig, int pixels) {
  std::vector<core::Camera> cams;
  for (const auto& cam : rig) {
    const double scale = double(pixels) / cam.width();
    core::Intrinsics k = cam.intrinsics();
    k.fx *= scale;
    k.fy *= scale;
    k.cx *= scale;
    k.cy *= scale;
    k.width = pixels;
    k.height = static_cast<int>(std::lround(cam.height() * scale));
    cams.emplace_back(k, cam.rotation(), cam.translation(), cam.name());
  }
  return core::Rig(std::move(cams));
}

struct Options {
  std::string out = "demo-out";
  int render_size = 256;
  std::unique_ptr<tools::ConfigOptions> config;
};

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("-o,--out", opt->out, "Output folder")->capture_default_str();
  app.add_option("--render-size", opt->render_size, "Detector pixels (N x N) of the demo DRRs; 0 skips rendering")
      ->capture_default_str();
  opt->config = std::make_unique<tools::ConfigOptions>(app);
  return [opt] {
    core::Config cfg = opt->config->load();
    const core::Rig rig = cfg.has("rig") ? core::Rig::from_config(cfg.section("rig")) : core::Rig::ring({});
    cfg.check_no_unknown_keys();

    core::BoxSet truth;
    auto& c = truth.case_for("demo");
    const Eigen::Vector3d centres[] = {{60, 10, 40}, {-70, 30, -20}, {15, -45, 80}};
    const double diameters[] = {8, 14, 5};
    for (int n = 0; n < 3; ++n) {
      core::BoxRecord r;
      r.box = core::Box3D{centres[n], Eigen::Vector3d::Constant(diameters[n])};
      r.id = core::cat("nodule", n);
      r.diameter_mm = diameters[n];
      c.boxes.push_back(r);
    }

    nlohmann::json views = nlohmann::json::array();
    std::printf("%-7s %-8s %-34s %s\n", "view", "nodule", "2D box [x0 y0 x1 y1] px", "centre (u, v, depth mm)");
    for (const auto& cam : rig) {
      nlohmann::json boxes = nlohmann::json::array();
      for (const auto& r : c.boxes) {
        const core::ProjectedBox pb = core::project_box(cam, r.box);
        if (!pb.visible) continue;
        boxes.push_back({{"id", r.id},
                         {"bbox_xyxy", {pb.box.x0, pb.box.y0, pb.box.x1, pb.box.y1}},
                         {"center_uv", {pb.center_uv.x(), pb.center_uv.y()}},
                         {"depth_mm", pb.center_depth},
                         {"truncation", pb.truncation}});
        std::printf("%-7s %-8s [%7.1f %7.1f %7.1f %7.1f]   (%.1f, %.1f, %.1f)\n", cam.name().c_str(), r.id.c_str(),
                    pb.box.x0, pb.box.y0, pb.box.x1, pb.box.y1, pb.center_uv.x(), pb.center_uv.y(), pb.center_depth);
      }
      auto v = camera_json(cam);
      v["boxes_2d"] = std::move(boxes);
      views.push_back(std::move(v));
    }
    const fs::path out(opt->out);
    const fs::path views_file = out / "views.json";
    const fs::path truth_file = out / "truth.json";
    core::write_file_atomic(views_file, nlohmann::json{{"frame", "world-LPS"}, {"units", "mm"}, {"views", views}}.dump(2));
    core::write_box_set(truth_file, truth);
    core::log::info("wrote ", views_file.string(), " (", rig.size(), " cameras with projected 2D boxes)");
    core::log::info("wrote ", truth_file.string(), " (", c.boxes.size(), " nodule boxes)");

    if (opt->render_size > 0) {
      data::PhantomSpec spec;
      spec.seed = 1;
      spec.id = "demo-phantom";
      spec.nodules = 4;
      spec.nodule_min_diameter_mm = 8;
      spec.nodule_max_diameter_mm = 20;
      const data::Phantom phantom = data::generate_phantom(spec);
      drr::RenderOptions options;
      options.mask = true;
      const core::Rig small = demo_render_rig(rig, opt->render_size);
      const fs::path drr_dir = out / "drr";
      const drr::RenderCaseResult r = drr::render_case(phantom.ct, small, options, {}, drr_dir);
      core::log::info("rendered ", small.size(), " DRRs of ", small[0].width(), " x ", small[0].height(), " px of '",
                      phantom.ct.id, "' (", phantom.ct.nodules.size(), " nodules) in ",
                      std::lround(r.render_seconds * 1000), " ms");
      core::log::info("wrote ", (drr_dir / "infos.json").string(),
                      " (+ viewNN.png, viewNN.npy, viewNN_overlay.png, viewNN_mask.png)");
    }
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("demo", "Run the pipeline on an embedded default example", setup);
