// `xraylift render`: DRRs of one case (or every case of a manifest) through a rig, with cameras and ground-truth
// 2D boxes (docs/drr.md).
#include <cmath>
#include <filesystem>
#include <optional>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/box_set.hpp"
#include "xraylift/core/interrupt.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/drr/render_case.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

struct Options {
  std::string input;
  std::string manifest;
  std::string out;
  std::string boxes;
  int size = 0;
  std::string integrator;
  std::string device;
  bool mask = false;
  bool dicom = false;
  std::unique_ptr<tools::ConfigOptions> config;
};

// Per view the source-detector distance of the configured rig (the DICOM's DistanceSourceToDetector; with fx it
// gives the detector's pixel spacing): rig.sdd_mm for a ring, each pose's sdd_mm (or the section's) for poses.
std::vector<double> source_detector_distances(const core::Config& cfg, std::size_t views) {
  if (!cfg.has("rig")) return std::vector<double>(views, core::RingSpec{}.sdd_mm);
  const core::Config rig = cfg.section("rig");
  std::vector<double> out(views, rig.get<double>("sdd_mm", core::RingSpec{}.sdd_mm));
  if (rig.get<std::string>("type", "ring") == "poses") {
    const YAML::Node poses = rig.node("poses");
    for (std::size_t i = 0; i < views && i < poses.size(); ++i)
      if (poses[i]["sdd_mm"]) out[i] = poses[i]["sdd_mm"].as<double>();
  }
  return out;
}

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("case", opt->input, "Case folder (data module), DICOM series folder or .nrrd volume");
  app.add_option("--manifest", opt->manifest,
                 "Batch mode: a manifest of case folders (JSON {\"cases\": [{\"path\": ...}]} or one path per line)");
  app.add_option("-o,--out", opt->out, "Output folder (batch mode: one sub-folder per case)")->required();
  app.add_option("--boxes", opt->boxes, "xraylift.boxes3d file with the nodules of a DICOM/NRRD input (by case id)");
  app.add_option("--size", opt->size,
                 "Detector of N pixels across the configured field (quick runs; rows keep square pixels)")
      ->check(tools::within(0, core::kMaxDetectorPixels));
  app.add_option("--integrator", opt->integrator, "siddon | trilinear (overrides drr.integrator)");
  app.add_option("--device", opt->device, "cpu | cuda (overrides drr.device)");
  app.add_flag("--mask", opt->mask, "Also write the nodule label images (viewNN_mask.png)");
  app.add_flag("--dicom", opt->dicom,
               "Also write each view as DICOM (viewNN.dcm: DX-like Secondary Capture, 16-bit round(I0 exp(-L)), "
               "camera in a private block; `views import` reads it back)");
  opt->config = std::make_unique<tools::ConfigOptions>(app);
  app.footer(
      "Writes per view viewNN.png (uint16 = 65535 * clamp(L / drr.png_l_max, 0, 1)), viewNN.npy (float32 line\n"
      "integrals L), viewNN_overlay.png (boxes drawn) and infos.json (cameras, 3D and 2D boxes; format\n"
      "xraylift.views). Config: a rig section (configs/rig/*.yaml; default the seed ring) and a drr section\n"
      "(integrator, step_voxels, step_mm, half_texture, mu_water_per_mm, bone, mu_bone_per_mm, bone_start_hu,\n"
      "mask, device, png_l_max, overlay, transmission, photons, noise_seed, dicom); an optional truth section\n"
      "(min_diameter_mm, min_readers: truths failing it become ignore regions, as in evaluation). The top-level\n"
      "key `threads` (or --threads) sets the CPU workers. Ignore regions\n"
      "(sub-3 mm marks, non-nodules) are flagged \"ignore\" in gt_boxes_2d and drawn dashed orange in the overlays.\n"
      "Inputs are brought into the world frame like imported cases: a .nrrd volume is reoriented to LPS index\n"
      "axes (axis-aligned directions only) and centred; --boxes are world-frame (centred) boxes.");
  return [opt] {
    if (opt->input.empty() == opt->manifest.empty())
      throw core::ConfigError("render: give exactly one of CASE or --manifest FILE");
    core::Config cfg = opt->config->load();
    if (!opt->integrator.empty()) cfg.set("drr.integrator=" + opt->integrator);
    if (!opt->device.empty()) cfg.set("drr.device=" + opt->device);
    if (opt->mask) cfg.set("drr.mask=true");
    if (opt->dicom) cfg.set("drr.dicom=true");
    const core::Rig configured = cfg.has("rig") ? core::Rig::from_config(cfg.section("rig")) : core::Rig::ring({});
    const core::Rig rig = opt->size > 0 ? configured.with_detector_width(opt->size) : configured;
    const drr::RenderOptions options = drr::RenderOptions::from_config(cfg.section("drr"));
    drr::ViewOutputOptions output = drr::ViewOutputOptions::from_config(cfg);
    if (output.dicom) output.dicom_sdd_mm = source_detector_distances(cfg, rig.size());
    cfg.check_no_unknown_keys();
    std::optional<core::BoxSet> boxes;
    if (!opt->boxes.empty()) boxes = core::read_box_set(opt->boxes);

    const bool batch = !opt->manifest.empty();
    const std::vector<fs::path> inputs =
        batch ? drr::read_manifest(opt->manifest) : std::vector<fs::path>{fs::path(opt->input)};
    // What a case folder is made from: the effective config, the options outside it and the input (its stamp).
    // A batch rerun skips the folders made the same way and renders the missing ones.
    std::string record = cfg.dump();
    if (opt->size > 0) record += core::cat("# --size ", opt->size, "\n");
    if (!opt->boxes.empty()) record += core::cat("# --boxes ", opt->boxes, "\n");
    tools::remove_stale_temporaries({(fs::path(opt->out) / "infos.json").string()}, "render");
    core::log::info("render: ", inputs.size(), " case(s), ", rig.size(), " views of ", rig[0].width(), " x ",
                    rig[0].height(), " px, ", drr::to_string(options.integrator), " on ",
                    drr::to_string(options.device));
    core::Progress progress("render", static_cast<std::int64_t>(inputs.size()));
    double seconds = 0;
    long long rays = 0;
    std::size_t rendered = 0;
    std::vector<std::string> written;
    core::for_each_unit("render", inputs.size(), "case(s)", [&](std::size_t i) {
      const fs::path& input = inputs[i];
      const std::string case_record = record + drr::render_input_stamp(input);
      if (batch) {
        const fs::path dir = fs::path(opt->out) / drr::render_input_id(input);
        if (drr::render_folder_complete(dir, case_record)) {
          core::log::info("render: ", dir.string(), " is complete (same config), skipped");
          written.push_back((dir / "infos.json").string());
          progress.tick();
          return;
        }
      }
      data::Case c = drr::load_render_input(input);
      if (boxes) {
        if (const auto* found = boxes->find(c.id))
          c.nodules = found->boxes;
        else
          core::log::warn("render: '", opt->boxes, "' has no boxes for case '", c.id, "'");
      }
      // Batch: each case folder appears whole or not at all. One case: the files into --out, each atomic.
      const fs::path dir = batch ? fs::path(opt->out) / c.id : fs::path(opt->out);
      drr::RenderCaseResult r;
      drr::ViewOutputOptions case_output = output;
      case_output.source_case = fs::absolute(input).lexically_normal().string();
      if (batch) {
        r = drr::render_case_folder(c, rig, options, case_output, dir, case_record);
      } else {
        r = drr::render_case(c, rig, options, case_output, dir);
        core::write_file_atomic(dir / drr::kRenderRecordFile, case_record);
      }
      seconds += r.render_seconds;
      rays += r.rays;
      ++rendered;
      written.push_back((dir / "infos.json").string());
      progress.set_status(core::cat(c.id, ": ", std::lround(r.render_seconds * 1000), " ms"));
      progress.tick();
    });
    progress.finish();
    for (const auto& w : written)
      core::log::info("wrote ", w, " (+ viewNN.png/.npy/_overlay.png", output.dicom ? "/.dcm" : "", " per view)");
    core::log::info("render: ", std::lround(seconds * 1000.0 / std::max<std::size_t>(rendered, 1)), " ms per case, ",
                    seconds > 0 ? static_cast<double>(rays) / seconds / 1e6 : 0.0, " M rays/s");
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("render", "Render DRRs of a case (cameras, 16-bit PNGs, line integrals, 2D boxes)", setup);
