// `xraylift view-ar`: the nodule scene drawn on an ArUco marker in a camera stream, a video or image folder;
// shown in a window or, headless, written as a video or PNG frames. Reports the frames per second.
#include <opencv2/highgui.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/viz/ar_viewer.hpp"
#include "xraylift/viz/export.hpp"
#include "xraylift/viz/scene_source.hpp"
#include "xraylift/viz/turntable.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

struct Options {
  std::string input;
  int demo_frames = 0;
  std::string demo_size = "1280x720";
  std::string scene_file;
  viz::SceneInputs in;
  std::string calibration;
  viz::MarkerSpec marker;
  std::string mode = "both";
  double opacity = 0.4, scale = 0, smoothing = 0.5;
  std::string output;
  int max_frames = 0;
  bool no_hud = false;
};

tools::Runner setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("-i,--input", o->input, "Camera index (0, 1, ...), a video file, or a folder of images");
  app.add_option("--demo-frames", o->demo_frames, "Instead of --input: N synthesized frames of a moving marker");
  app.add_option("--demo-size", o->demo_size, "Size of the synthesized frames WIDTHxHEIGHT")->capture_default_str();
  app.add_option("--scene", o->scene_file, "A scene written by `xraylift export` (.glb)");
  app.add_option("--ct", o->in.ct, "Or build the scene from a CT (DICOM folder or case folder)");
  app.add_flag("--synthetic", o->in.synthetic, "Or use the built-in synthetic chest");
  app.add_option("--phantom", o->in.phantom_seed, "Or a phantom of the data module (this seed)");
  app.add_option("--boxes", o->in.box_files, "Box files added to a --ct/--synthetic scene; repeatable");
  app.add_option("--calibration", o->calibration,
                 "Camera calibration from `xraylift calibrate` (default: a ~60 deg guess)");
  app.add_option("--marker-id", o->marker.id, "Marker id (-1: any)")->capture_default_str();
  app.add_option("--marker-size-mm", o->marker.size_mm, "Printed marker side in mm")->capture_default_str();
  app.add_option("--dictionary", o->marker.dictionary, "ArUco dictionary")->capture_default_str();
  app.add_option("--mode", o->mode, "both | lungs | nodules (key m cycles)")->capture_default_str();
  app.add_option("--opacity", o->opacity, "Lung opacity 0..1 (keys + / -)")->capture_default_str();
  app.add_option("--scale", o->scale, "Marker mm per scene mm (0: fit 2 marker sides)")->capture_default_str();
  app.add_option("--smoothing", o->smoothing, "Pose smoothing weight of a new pose, (0, 1]; 1 = off")
      ->capture_default_str();
  app.add_option("-o,--output", o->output, "window (default with a display), a folder of PNGs, or a .mp4/.avi");
  app.add_option("--max-frames", o->max_frames, "Stop after N frames (0: until the input ends or q)");
  app.add_flag("--no-hud", o->no_hud, "No text or marker outline");
  return [o] {
    XL_CHECK((!o->input.empty()) + (o->demo_frames > 0) == 1, "view-ar: give exactly one of --input or --demo-frames");
    XL_USAGE_CHECK(o->opacity >= 0 && o->opacity <= 1, "--opacity ", o->opacity, ": expected 0 .. 1");
    int dw = 0, dh = 0;
    char x = 0;
    if (std::sscanf(o->demo_size.c_str(), "%d%c%d", &dw, &x, &dh) != 3 || x != 'x' || dw < 64 || dh < 64)
      throw core::ConfigError(core::cat("--demo-size '", o->demo_size, "': expected WIDTHxHEIGHT, at least 64x64"));
    viz::CameraCalibration cal =
        o->calibration.empty() ? viz::CameraCalibration::guess({dw, dh}) : viz::load_calibration(o->calibration);
    if (o->demo_frames > 0) cal = cal.scaled_to({dw, dh});
    std::unique_ptr<viz::FrameSource> source =
        o->demo_frames > 0 ? viz::demo_frame_source(o->marker, cal, o->demo_frames) : viz::open_frame_source(o->input);
    viz::Scene scene;
    if (!o->scene_file.empty()) {
      XL_USAGE_CHECK(o->in.ct.empty() && !o->in.synthetic && o->in.phantom_seed < 0,
                     "view-ar: --scene excludes --ct/--synthetic/--phantom");
      scene = viz::read_glb_scene(o->scene_file);
    } else {
      scene = viz::load_scene(o->in, core::Rig::ring({})).scene;
    }
    std::string output = o->output;
    if (output.empty()) {
      XL_CHECK(std::getenv("DISPLAY") || std::getenv("WAYLAND_DISPLAY"),
               "view-ar: no display here; pass -o FOLDER or -o FILE.mp4 to write the frames");
      output = "window";
    }
    viz::ArViewOptions vo;
    vo.render.mode = viz::parse_display_mode(o->mode);
    vo.render.lung_opacity = o->opacity;
    vo.placement.scale = o->scale;
    vo.smoothing = o->smoothing;
    vo.hud = !o->no_hud;
    viz::ArViewer viewer(scene, o->marker, cal, vo);
    core::log::info("view-ar: ", source->describe(), ", scene of ", scene.triangle_count(), " triangles, marker ",
                    o->marker.dictionary, " id ", o->marker.id, " (", o->marker.size_mm, " mm)",
                    o->calibration.empty() ? ", guessed intrinsics" : "");
    const bool window = output == "window";
    std::vector<cv::Mat> frames;
    cv::Mat frame;
    int n = 0, found = 0;
    double busy_s = 0, fps = 0;
    const auto start = std::chrono::steady_clock::now();
    while ((o->max_frames <= 0 || n < o->max_frames) && source->next(frame)) {
      const auto t0 = std::chrono::steady_clock::now();
      cv::Mat out = viewer.process(frame, fps);
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      busy_s += dt;
      fps = fps > 0 ? 0.9 * fps + 0.1 / dt : 1 / dt;
      found += viewer.last_pose().found;
      ++n;
      if (window) {
        cv::imshow("xraylift view-ar (m: mode, +/-: opacity, s: smoothing, q: quit)", out);
        if (!viewer.handle_key(cv::waitKey(1))) break;
      } else {
        frames.push_back(out);
      }
    }
    XL_CHECK(n > 0, "view-ar: the input gave no frames");
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!window) {
      const auto written = viz::write_frames(output, frames, 25);
      core::log::info("wrote ", output, " (", frames.size(), " frames)");
    }
    core::log::info("frames ", n, ", marker found in ", found, "; processing ", n / busy_s,
                    " frames/s (detect + smooth + render; ", wall, " s wall with input/output)");
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("view-ar", "Show the nodule scene on an ArUco marker (camera, video or images)", setup);
