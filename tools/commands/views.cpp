// `xraylift views import`: radiographs that xraylift did not render (16-bit PNG/TIFF, DICOM DX/CR/RF/SC) and their
// cameras -> a view set (xraylift.views) that predict reads (docs/drr.md "Importing radiographs").
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/drr/import_views.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

struct ImportOpts {
  std::vector<std::string> inputs;
  std::string out;
  std::string cameras;
  std::string case_id;
  double flat_field = 0;
  double air_percentile = 99.5;
  double max_line_integral = 12.0;
  std::unique_ptr<tools::ConfigOptions> config;
};

void setup_import(CLI::App& app, const std::shared_ptr<ImportOpts>& o, std::function<int()>& run) {
  auto* sub = app.add_subcommand("import", "Radiographs (16-bit PNG/TIFF or DICOM) + cameras -> a view set");
  sub->add_option("images", o->inputs, "Radiograph files or folders of them (sorted by name), one per view")
      ->required();
  sub->add_option("-o,--out", o->out, "Output view-set folder (replaced whole)")->required();
  sub->add_option("--cameras", o->cameras,
                  "Per-view cameras: an xraylift.views file (infos.json) with one camera per image, in order");
  sub->add_option("--case-id", o->case_id, "Case id of the view set (default: the output folder's name)");
  sub->add_option("--flat-field", o->flat_field,
                  "I0 for every view (the intensity of an unattenuated ray); default: the DICOM's xraylift I0, "
                  "else the air percentile of each image")
      ->check(tools::within(1e-6, 1e12));
  sub->add_option("--air-percentile", o->air_percentile, "Percentile of an image's intensities taken as I0")
      ->capture_default_str()
      ->check(tools::within(1, 100));
  sub->add_option("--max-line-integral", o->max_line_integral, "L is clipped to [0, this]")
      ->capture_default_str()
      ->check(tools::within(0.1, 100));
  o->config = std::make_unique<tools::ConfigOptions>(*sub);
  sub->footer(
      "Line integrals: L = clamp(-ln(max(I, 0.5) / I0), 0, --max-line-integral), I the pixel's intensity (DICOM:\n"
      "inverted when PixelIntensityRelationshipSign is -1, or without it for MONOCHROME1; RescaleSlope/Intercept\n"
      "applied), I0 from --flat-field, else the xraylift I0 of a `render --dicom` file, else the --air-percentile\n"
      "of the image. Cameras: the config's rig section (--config configs/rig/*.yaml, one view per image) or\n"
      "--cameras; without them each DICOM's xraylift camera block (files of `render --dicom`). Writes viewNN.npy,\n"
      "viewNN.png, viewNN_overlay.png and infos.json (the rule, I0 and file per view under render.import).\n"
      "Exit 3: 8-bit or colour images, differing sizes, DICOM without spacing or camera when no rig is given;\n"
      "exit 2: a rig whose view count or image size does not match the images.");
  sub->callback([o, &run] {
    run = [o] {
      core::Config cfg = o->config->load();
      drr::ImportOptions options;
      options.output = drr::ViewOutputOptions::from_config(cfg);
      XL_USAGE_CHECK(!(cfg.has("rig") && !o->cameras.empty()),
                     "views import: give the cameras once: a config rig section or --cameras, not both");
      if (cfg.has("rig")) {
        options.rig = core::Rig::from_config(cfg.section("rig"));
        options.rig_origin = cfg.origin("rig");
      }
      cfg.check_no_unknown_keys();
      if (!o->cameras.empty()) {
        const core::ViewSet set = core::read_view_set(o->cameras);
        std::vector<core::Camera> cams;
        for (const auto& v : set.views) cams.push_back(v.camera);
        XL_CHECK(!cams.empty(), o->cameras, ": no cameras");
        options.rig = core::Rig(cams);
        options.rig_origin = o->cameras;
      }
      if (o->flat_field > 0) options.rule.flat_field = o->flat_field;
      options.rule.air_percentile = o->air_percentile;
      options.rule.max_line_integral = o->max_line_integral;
      options.case_id = o->case_id;
      std::vector<fs::path> inputs(o->inputs.begin(), o->inputs.end());
      const auto files = drr::radiograph_files(inputs);
      tools::remove_stale_temporaries({o->out}, "views import");
      const auto r = drr::import_views(files, o->out, options);
      for (std::size_t i = 0; i < files.size(); ++i)
        core::log::info("views import: ", files[i].string(), " -> ", r.views.views[i].line_integral_path, " (I0 ",
                        r.i0[i], ", ", r.i0_source[i], ")");
      core::log::info("views import: ", files.size(), " view(s) of ", r.views.views.front().camera.width(), " x ",
                      r.views.views.front().camera.height(), " px, case '", r.views.case_id, "'");
      core::log::info("outputs:");
      core::log::info("  ", (fs::path(o->out) / "infos.json").string(),
                      "  view set (xraylift.views; + viewNN.npy/.png/_overlay.png per view)");
      return 0;
    };
  });
}

tools::Runner setup(CLI::App& app) {
  app.require_subcommand(1);
  auto run = std::make_shared<std::function<int()>>();
  auto io = std::make_shared<ImportOpts>();
  setup_import(app, io, *run);
  return [run, io] {
    XL_USAGE_CHECK(static_cast<bool>(*run), "views: no subcommand given (import)");
    return (*run)();
  };
}

}  // namespace

XL_REGISTER_COMMAND("views", "View sets from radiographs: import 16-bit PNG/TIFF or DICOM with their cameras", setup);
