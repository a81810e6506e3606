// `xraylift eval2d`: COCO-style AP of 2D detections (xraylift.boxes2d files), overall and per view.
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/eval/box_set2d.hpp"
#include "xraylift/eval/options.hpp"
#include "xraylift/eval/report.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

struct Options {
  std::string truth, pred, out = "eval2d-out";
  std::unique_ptr<tools::ConfigOptions> config;
};

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("-t,--truth", opt->truth, "Truth boxes (xraylift.boxes2d JSON)")->required();
  app.add_option("-p,--pred", opt->pred, "Detections with scores (xraylift.boxes2d JSON)")->required();
  app.add_option("-o,--out", opt->out, "Output folder")->capture_default_str();
  opt->config = std::make_unique<tools::ConfigOptions>(app);
  app.footer(
      "COCO AP@0.5, AP@0.75, AP@0.5:0.95 and AR@100 (pycocotools definition, one class; docs/eval.md), overall\n"
      "and per view (the truth file's \"view\" of each image). Options: --set eval.iou_thresholds_2d=[...],\n"
      "--set eval.max_detections_2d=N. Writes OUT/metrics.json, OUT/summary.md, OUT/pr_curve.png.");
  return [opt] {
    core::Config cfg = opt->config->load();
    const core::Config section = cfg.section("eval");
    const eval::Coco2DOptions options = eval::coco2d_options_from_config(section);
    eval::eval3d_options_from_config(section);  // the shared file's 3D keys are valid here too
    cfg.check_no_unknown_keys();
    const eval::BoxSet2D truth = eval::read_box_set2d(opt->truth);
    const eval::BoxSet2D pred = eval::read_box_set2d(opt->pred);
    if (truth.source != core::BoxSource::kTruth)
      core::log::warn(opt->truth, ": 'source' is \"prediction\"; using it as the truth");
    const auto groups = eval::evaluate_views(truth, opt->truth, pred, opt->pred, options);
    const auto paths = eval::write_report_2d(opt->out, groups, {opt->truth, opt->pred});
    const auto& all = groups.at("all");
    core::log::info("all: AP50 ", eval::format_metric(all.ap50), ", AP50:95 ", eval::format_metric(all.ap50_95),
                    ", AR100 ", eval::format_metric(all.ar100), " (", all.num_truths, " truths, ", all.num_detections,
                    " detections, ", groups.size() - 1, " views)");
    for (const auto& p : paths) core::log::info("wrote ", p.string());
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("eval2d", "Evaluate 2D detections: COCO AP per view, reports", setup);
