// `xraylift detect2d`: runs a trained 2D detector on rendered views; writes detections (xraylift.boxes2d JSON,
// read by `xraylift eval2d`), the matching truth file, overlay PNGs, and prints COCO AP when truth exists.
#include <cstdio>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/detect2d/data.hpp"
#include "xraylift/detect2d/inference.hpp"
#include "xraylift/detect2d/weights.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

// Named, not anonymous: the torch commands are compiled as one unity file (docs/BUILDING.md "Build time").
namespace detect2d_command {

struct Options {
  std::string out = "detect2d-out";
  std::vector<std::string> data;
  std::string weights;
  std::string device = "cpu";
  int batch = 4;
  double overlay_score = 0.3;
  bool no_overlays = false;
  std::unique_ptr<tools::ConfigOptions> config;
};

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("-d,--data", opt->data, "View-set folders or infos.json files")->required();
  app.add_option("-w,--weights", opt->weights,
                 "Trained weights (model.safetensors from `xraylift train`, or a torch.save state dict)")
      ->required();
  app.add_option("-o,--out", opt->out, "Output folder")->capture_default_str();
  app.add_option("--device", opt->device, "cpu or cuda[:N]")->capture_default_str();
  app.add_option("--batch", opt->batch, "Views per forward pass")->capture_default_str();
  app.add_option("--overlay-score", opt->overlay_score, "Draw detections with at least this score")
      ->capture_default_str();
  app.add_flag("--no-overlays", opt->no_overlays, "Skip the overlay PNGs");
  opt->config = std::make_unique<tools::ConfigOptions>(app, "", true);
  return [opt] {
    core::Config cfg = opt->config->load();
    cfg.get<std::string>("task", "detect2d");
    auto job = detect2d::Detect2DJob::from_config(cfg);
    cfg.check_no_unknown_keys();
    const torch::Device device(opt->device);
    std::vector<fs::path> inputs(opt->data.begin(), opt->data.end());
    detect2d::ViewSetDataset dataset(inputs, job.data);
    detect2d::FasterRCNN model(job.model);
    const auto report = detect2d::load_weights(*model, opt->weights);
    if (!report.missing.empty() || !report.mismatched.empty())
      throw core::InputError(
          core::cat("weights '", opt->weights, "' do not fit the config's model: ", report.summary()));
    const auto detections = detect2d::run_detector(model, dataset, device, opt->batch, true);
    const fs::path out(opt->out);
    const fs::path det_file = out / "detections.json", truth_file = out / "truth.json";
    core::write_file_atomic(det_file, detect2d::detections_json(detections).dump(1) + "\n");
    core::write_file_atomic(truth_file, detect2d::truth_json(dataset).dump(1) + "\n");
    if (!opt->no_overlays) {
      for (std::size_t i = 0; i < dataset.size(); ++i) {
        const auto sample = dataset.get(i);
        const auto& d = detections[i];
        detect2d::write_overlay_png(out / "overlays" / (d.case_id + "_" + d.view + ".png"), sample.at("image"),
                                    sample.at("boxes"), d, opt->overlay_score, sample.at("ignore_boxes"));
      }
    }
    const auto ev = detect2d::evaluate_detections(detections, dataset);
    if (ev.overall.num_truths > 0) {
      std::printf("%-12s %7s %7s %11s %7s\n", "views", "truths", "AP@0.5", "AP@0.5:0.95", "AR@100");
      auto row = [](const std::string& name, const eval::Coco2DResult& r) {
        std::printf("%-12s %7d %7.3f %11.3f %7.3f\n", name.c_str(), r.num_truths, r.ap50, r.ap50_95, r.ar100);
      };
      for (const auto& [view, r] : ev.per_view) row(view, r);
      row("all", ev.overall);
    }
    core::log::info("wrote ", det_file.string(), " (", detections.size(), " views; score with `xraylift eval2d`)");
    core::log::info("wrote ", truth_file.string());
    if (!opt->no_overlays) core::log::info("wrote ", (out / "overlays").string(), "/*.png");
    return 0;
  };
}

}  // namespace detect2d_command

XL_REGISTER_COMMAND("detect2d", "Detect nodules in rendered views with a trained 2D detector", detect2d_command::setup);
