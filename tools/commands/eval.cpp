// `xraylift eval`: 3D localization metrics of one or several prediction sets against a truth set
// (xraylift.boxes3d files), written as metrics.json, summary.md and PNG plots.
#include <filesystem>
#include <optional>
#include <set>

#include "../command.hpp"
#include "xraylift/core/box_set.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/progress.hpp"
#include "xraylift/eval/options.hpp"
#include "xraylift/eval/report.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

struct Options {
  std::string truth, pred, out = "eval-out";
  std::vector<std::string> compare;
  std::optional<int> bootstrap;  // --bootstrap, when given
  std::unique_ptr<tools::ConfigOptions> config;
};

// Unique, readable names for the compared sets: the file stem, with the parent folder when stems collide.
std::vector<std::string> set_names(const std::vector<std::string>& files) {
  std::vector<std::string> names;
  std::set<std::string> stems;
  bool collide = false;
  for (const auto& f : files) collide = collide || !stems.insert(fs::path(f).stem().string()).second;
  for (const auto& f : files) {
    const fs::path p(f);
    names.push_back(collide ? (p.parent_path().filename() / p.stem()).string() : p.stem().string());
  }
  return names;
}

tools::Runner setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  app.add_option("-t,--truth", opt->truth, "Truth boxes (xraylift.boxes3d JSON)")->required();
  app.add_option("-p,--pred", opt->pred, "Predicted boxes with scores (xraylift.boxes3d JSON)");
  app.add_option("--compare", opt->compare, "Several prediction files: one table with a row each")->expected(1, -1);
  app.add_option("-o,--out", opt->out, "Output folder")->capture_default_str();
  app.add_option("--bootstrap", opt->bootstrap,
                 "Bootstrap resamples for 95 % intervals (overrides eval.bootstrap_samples; 0 = none)")
      ->check(tools::within(0, 100000));
  opt->config = std::make_unique<tools::ConfigOptions>(app);
  app.footer(
      "Metrics (docs/eval.md): LUNA16 FROC and CPM, nuScenes-style mAP over centre-distance thresholds in mm with\n"
      "ATE/ASE and the combined score, MMDetection3D-style 3D IoU AP, breakdowns by nodule size and readers.\n"
      "Truth boxes with \"ignore\": true (or failing eval.min_diameter_mm / eval.min_readers) are ignore regions.\n"
      "Options: --config configs/eval/default.yaml (or luna16.yaml), --set eval.KEY=VALUE.\n"
      "Writes OUT/metrics.json, OUT/summary.md, OUT/froc.png, OUT/pr_curves.png;\n"
      "with --compare: OUT/compare.json, OUT/compare.md, OUT/froc_compare.png (and a report per set in OUT/<name>/),\n"
      "and with bootstrap each set's paired CPM and mAP difference against the first (docs/eval.md).");
  return [opt] {
    core::Config cfg = opt->config->load();
    const core::Config section = cfg.section("eval");
    eval::Eval3DOptions options = eval::eval3d_options_from_config(section);
    eval::coco2d_options_from_config(section);  // the shared file's 2D keys are valid here too
    cfg.check_no_unknown_keys();
    if (opt->bootstrap) options.bootstrap_samples = *opt->bootstrap;
    eval::validate(options);

    std::vector<std::string> pred_files;
    if (!opt->pred.empty()) pred_files.push_back(opt->pred);
    pred_files.insert(pred_files.end(), opt->compare.begin(), opt->compare.end());
    if (pred_files.empty()) throw core::ConfigError("xraylift eval: give --pred FILE or --compare FILE...");

    const core::BoxSet truth = core::read_box_set(opt->truth);
    const fs::path out(opt->out);
    std::vector<fs::path> written;
    std::vector<eval::NamedResult> results;
    std::vector<std::vector<eval::EvalCase>> all_cases;  // per set, for the paired differences
    const auto names = set_names(pred_files);
    core::Progress progress("eval", static_cast<std::int64_t>(pred_files.size()));
    for (std::size_t i = 0; i < pred_files.size(); ++i) {
      const core::BoxSet pred = core::read_box_set(pred_files[i]);
      auto cases = eval::pair_cases(truth, opt->truth, pred, pred_files[i], options.truth_filter);
      eval::NamedResult r{names[i], pred_files[i], eval::evaluate_3d(cases, options)};
      const fs::path dir = pred_files.size() == 1 ? out : out / names[i];
      const auto paths = eval::write_report_3d(dir, r.result, options, {opt->truth, pred_files[i]});
      written.insert(written.end(), paths.begin(), paths.end());
      const auto& m = r.result.overall;
      core::log::info(names[i], ": CPM ", eval::format_metric(m.froc.cpm), ", mAP ", eval::format_metric(m.map),
                      ", ATE ", eval::format_metric(m.ate_mm, 2), " mm, ASE ", eval::format_metric(m.ase), ", score ",
                      eval::format_metric(m.score), " (", m.num_truths, " nodules, ", m.num_predictions,
                      " predictions, ", m.num_cases, " cases)");
      results.push_back(std::move(r));
      if (pred_files.size() > 1) all_cases.push_back(std::move(cases));
      progress.tick();
    }
    progress.finish();
    std::vector<eval::PairedDifference> paired;
    if (pred_files.size() > 1 && options.bootstrap_samples > 0) {
      for (std::size_t i = 1; i < all_cases.size(); ++i) {
        paired.push_back(eval::paired_difference(all_cases[0], all_cases[i], options));
        const auto& d = paired.back();
        core::log::info(names[i], " - ", names[0], ": CPM ", eval::format_difference(d.cpm_difference), " (95 % CI ",
                        eval::format_difference(d.cpm_lower), " to ", eval::format_difference(d.cpm_upper),
                        "; not better in ", eval::format_metric(d.cpm_share_not_better), " of ", d.defined_samples,
                        " paired resamples), mAP ", eval::format_difference(d.map_difference));
      }
    }
    if (pred_files.size() > 1) {
      const auto paths = eval::write_compare_3d(out, results, options, opt->truth, paired);
      written.insert(written.end(), paths.begin(), paths.end());
    }
    for (const auto& p : written) core::log::info("wrote ", p.string());
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("eval", "Evaluate 3D nodule boxes: FROC/CPM, mm mAP/ATE/ASE, 3D IoU AP, reports", setup);
