#include "xraylift/eval/report.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/eval/numeric.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace xraylift::eval {
namespace {

std::string with_ci(double v, const Interval& ci, bool have_ci) {
  if (!have_ci || v < 0) return format_metric(v) + " |";
  return format_metric(v) + " | " + format_metric(ci.lower) + " - " + format_metric(ci.upper);
}

std::string rate_label(double r) {
  if (r < 1 && std::abs(1 / r - std::round(1 / r)) < 1e-9) return core::cat("1/", std::lround(1 / r));
  return format_metric(r, r == std::round(r) ? 0 : 3);
}

template <typename T>
std::string list_text(const std::vector<T>& v, const char* unit = "") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + core::cat(v[i]) + unit;
  return s;
}

json null_if_undefined(double v) { return v < 0 ? json(nullptr) : json(v); }

}  // namespace

std::string format_metric(double value, int decimals) {
  if (value < 0 || !std::isfinite(value)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string markdown_3d(const Eval3DResult& r, const Eval3DOptions& o, const ReportSource& src) {
  const Metrics3D& m = r.overall;
  const bool ci = r.bootstrap_samples > 0;
  std::ostringstream md;
  md << "# xraylift 3D localization evaluation\n\n"
     << "- Truth: `" << src.truth << "` (" << m.num_cases << " cases, " << m.num_truths << " nodules counted, "
     << m.num_ignored_truths << " ignore regions)\n"
     << "- Predictions: `" << src.predictions << "` (" << m.num_predictions << " boxes)\n"
     << "- Truth filter: diameter >= " << o.truth_filter.min_diameter_mm
     << " mm, readers >= " << o.truth_filter.min_readers << " (when known)"
     << (o.truth_filter.textures.empty() ? std::string() : ", textures " + list_text(o.truth_filter.textures))
     << "; FROC double detections "
     << (o.froc.duplicates_as_false_positives ? "count as false positives" : "ignored (LUNA16)") << "\n";
  if (ci)
    md << "- 95 % intervals: " << r.bootstrap_samples << " bootstrap resamples of the cases (LUNA16 percentiles)\n";
  md << "\n| metric | value | " << (ci ? "95 % CI" : "") << " |\n|---|---|---|\n";
  md << "| CPM (LUNA16) | " << with_ci(m.froc.cpm, r.cpm_ci, ci) << " |\n";
  for (std::size_t k = 0; k < m.froc.fp_rates.size(); ++k)
    md << "| sensitivity @ " << rate_label(m.froc.fp_rates[k]) << " FP/scan | "
       << with_ci(m.froc.sensitivity_at_rates[k], k < r.sensitivity_ci.size() ? r.sensitivity_ci[k] : Interval{}, ci)
       << " |\n";
  md << "| mAP (centre distance " << list_text(o.distance_thresholds_mm, " mm") << ") | "
     << with_ci(m.map, r.map_ci, ci) << " |\n";
  for (const auto& d : m.distance) md << "| AP @ " << d.threshold << " mm | " << format_metric(d.ap) << " | |\n";
  if (!m.relative.empty()) {
    md << "| mAP (centre distance < " << list_text(o.relative_thresholds, "") << " x nodule radius) | "
       << format_metric(m.map_relative) << " | |\n";
  }
  md << "| ATE @ " << o.tp_threshold_mm << " mm (mm) | " << format_metric(m.ate_mm, 2) << " | |\n"
     << "| ASE @ " << o.tp_threshold_mm << " mm (1 - aligned IoU) | " << format_metric(m.ase) << " | |\n"
     << "| detection score (5 mAP + ATE + ASE terms) / 7 | " << with_ci(m.score, r.score_ci, ci) << " |\n";
  for (const auto& c : m.iou) md << "| AP3D @ IoU " << c.threshold << " | " << format_metric(c.ap) << " | |\n";
  md << "\nFROC: " << m.froc.num_detected << " of " << m.froc.num_truths << " nodules hit, "
     << m.froc.num_false_positives << " false positives over " << m.froc.num_scans << " scans.\n";
  if (!r.breakdowns.empty()) {
    md << "\n## Breakdown\n\nTruths outside a row's bin are ignore regions for that row "
          "(predictions on them are neither hits nor false positives).\n\n"
       << "| group | bin | nodules | CPM | mAP | ATE (mm) | score |\n|---|---|---|---|---|---|---|\n";
    for (const auto& b : r.breakdowns)
      md << "| " << b.group << " | " << b.label << " | " << b.metrics.num_truths << " | "
         << format_metric(b.metrics.froc.cpm) << " | " << format_metric(b.metrics.map) << " | "
         << format_metric(b.metrics.ate_mm, 2) << " | " << format_metric(b.metrics.score) << " |\n";
  }
  md << "\nDefinitions: docs/eval.md. Plots: froc.png, pr_curves.png.\n";
  return md.str();
}

PlotSpec froc_plot(const std::vector<std::pair<std::string, const FrocCurve*>>& curves) {
  PlotSpec s;
  s.title = "FROC";
  s.x_label = "average false positives per scan";
  s.y_label = "sensitivity";
  s.log2_x = true;
  s.x_min = 0.125;
  s.x_max = 8;
  s.x_ticks = luna16_fp_rates();
  s.x_tick_labels = {"1/8", "1/4", "1/2", "1", "2", "4", "8"};
  for (int i = 0; i <= 10; ++i) s.y_ticks.push_back(i / 10.0);
  for (std::size_t k = 0; k < curves.size(); ++k) {
    const FrocCurve& c = *curves[k].second;
    if (c.cpm < 0) continue;
    PlotSeries line;
    line.name = curves[k].first + " (CPM " + format_metric(c.cpm) + ")";
    line.rgb = series_colour(k);
    // The LUNA16 script plots numpy.interp of the curve on a dense grid; so do we (log-spaced).
    for (int i = 0; i <= 400; ++i) {
      const double x = std::pow(2.0, -3.0 + 6.0 * i / 400.0);
      line.x.push_back(x);
      line.y.push_back(interp(x, c.fps, c.sensitivity));
    }
    PlotSeries points;
    points.rgb = line.rgb;
    points.line = false;
    points.markers = true;
    points.x = c.fp_rates;
    points.y = c.sensitivity_at_rates;
    s.series.push_back(std::move(line));
    s.series.push_back(std::move(points));
  }
  if (curves.size() == 1 && curves[0].second->cpm >= 0)
    s.title = "FROC, CPM " + format_metric(curves[0].second->cpm) + " (circles: CPM points)";
  else
    s.title = "FROC (circles: CPM points)";
  return s;
}

PlotSpec precision_recall_axes(const std::string& title) {
  PlotSpec s;
  s.title = title;
  s.x_label = "recall";
  s.y_label = "precision";
  for (int i = 0; i <= 10; ++i) {
    s.x_ticks.push_back(i / 10.0);
    s.y_ticks.push_back(i / 10.0);
  }
  return s;
}

PlotSpec pr_plot_3d(const Metrics3D& m) {
  PlotSpec s = precision_recall_axes("Precision-recall (nuScenes centre distance; 3D IoU)");
  std::size_t k = 0;
  for (const auto& d : m.distance) {
    PlotSeries ser;
    ser.name = core::cat("dist ", d.threshold, " mm (AP ", format_metric(d.ap), ")");
    ser.rgb = series_colour(k++);
    ser.x = d.recall;
    ser.y = d.precision;
    s.series.push_back(std::move(ser));
  }
  for (const auto& c : m.iou) {
    PlotSeries ser;
    ser.name = core::cat("IoU ", c.threshold, " (AP ", format_metric(c.ap), ")");
    ser.rgb = series_colour(k++);
    // Monotone envelope, the curve whose area is the AP.
    std::vector<double> env = c.precision;
    for (std::size_t i = env.size(); i-- > 1;) env[i - 1] = std::max(env[i - 1], env[i]);
    ser.x = c.recall;
    ser.y = env;
    s.series.push_back(std::move(ser));
  }
  return s;
}

std::vector<fs::path> write_report_3d(const fs::path& out_dir, const Eval3DResult& r, const Eval3DOptions& o,
                                      const ReportSource& src) {
  json doc = to_json(r, o);
  doc["truth"] = src.truth;
  doc["predictions"] = src.predictions;
  const std::vector<fs::path> paths = {out_dir / "metrics.json", out_dir / "summary.md", out_dir / "froc.png",
                                       out_dir / "pr_curves.png"};
  core::write_file_atomic(paths[0], doc.dump(2) + "\n");
  core::write_file_atomic(paths[1], markdown_3d(r, o, src));
  write_plot_png(paths[2], froc_plot({{"overall", &r.overall.froc}}));
  write_plot_png(paths[3], pr_plot_3d(r.overall));
  return paths;
}

std::string format_difference(double value, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.*f", decimals, value);
  return buf;
}

std::vector<fs::path> write_compare_3d(const fs::path& out_dir, const std::vector<NamedResult>& results,
                                       const Eval3DOptions& o, const std::string& truth,
                                       const std::vector<PairedDifference>& paired) {
  XL_CHECK(paired.empty() || (!results.empty() && paired.size() == results.size() - 1),
           "write_compare_3d: ", paired.size(), " paired differences for ", results.size(),
           " sets; expected none or one per set after the first");
  std::string text = "# xraylift 3D evaluation: comparison\n\nTruth: `" + truth +
                     "`. One row per prediction set; definitions in docs/eval.md.\n\n"
                     "| predictions | CPM | CPM 95 % CI | mAP | ATE (mm) | ASE | score |";
  std::string sep = "|---|---|---|---|---|---|---|";
  for (double t : o.iou_thresholds) {
    text += core::cat(" AP3D@", t, " |");
    sep += "---|";
  }
  text += "\n" + sep + "\n";
  std::ostringstream rows;
  json doc = {{"format", "xraylift.eval3d.compare"}, {"version", 1}, {"truth", truth}};
  json entries = json::array();
  std::vector<std::pair<std::string, const FrocCurve*>> curves;
  for (const auto& n : results) {
    const Metrics3D& m = n.result.overall;
    rows << "| " << n.name << " | " << format_metric(m.froc.cpm) << " | "
         << (n.result.bootstrap_samples > 0
                 ? format_metric(n.result.cpm_ci.lower) + " - " + format_metric(n.result.cpm_ci.upper)
                 : std::string(""))
         << " | " << format_metric(m.map) << " | " << format_metric(m.ate_mm, 2) << " | " << format_metric(m.ase)
         << " | " << format_metric(m.score) << " |";
    for (const auto& c : m.iou) rows << " " << format_metric(c.ap) << " |";
    rows << "\n";
    json e = to_json(n.result, o);
    e["name"] = n.name;
    e["predictions"] = n.predictions;
    entries.push_back(std::move(e));
    curves.push_back({n.name, &m.froc});
  }
  doc["results"] = std::move(entries);
  if (!paired.empty()) {
    rows << "\n## Paired differences against " << results[0].name << "\n\nEach set minus `" << results[0].name
         << "` on the same bootstrap resamples of the scans (" << paired[0].bootstrap_samples
         << " resamples; docs/eval.md \"Comparing two sets\"). \"Not better\": the share of resamples in which the "
            "set's CPM is not above the first's.\n\n"
            "| predictions | CPM difference | 95 % CI | not better | mAP difference | 95 % CI |\n"
            "|---|---|---|---|---|---|\n";
    json pj = json::array();
    for (std::size_t i = 0; i < paired.size(); ++i) {
      const PairedDifference& d = paired[i];
      const bool ci = d.defined_samples > 0;
      rows << "| " << results[i + 1].name << " | " << format_difference(d.cpm_difference) << " | "
           << (ci ? format_difference(d.cpm_lower) + " to " + format_difference(d.cpm_upper) : std::string()) << " | "
           << (ci ? format_metric(d.cpm_share_not_better) : std::string()) << " | "
           << format_difference(d.map_difference) << " | "
           << (ci ? format_difference(d.map_lower) + " to " + format_difference(d.map_upper) : std::string()) << " |\n";
      json e = to_json(d);
      e["name"] = results[i + 1].name;
      e["against"] = results[0].name;
      pj.push_back(std::move(e));
    }
    doc["paired"] = std::move(pj);
  }
  const std::vector<fs::path> paths = {out_dir / "compare.json", out_dir / "compare.md", out_dir / "froc_compare.png"};
  core::write_file_atomic(paths[0], doc.dump(2) + "\n");
  core::write_file_atomic(paths[1], text + rows.str());
  write_plot_png(paths[2], froc_plot(curves));
  return paths;
}

json to_json(const Coco2DResult& r) {
  json per_iou = json::array();
  for (std::size_t i = 0; i < r.ap_per_iou.size(); ++i)
    per_iou.push_back({{"iou", r.iou_thresholds[i]}, {"ap", null_if_undefined(r.ap_per_iou[i])}});
  return {{"ap50", null_if_undefined(r.ap50)},
          {"ap75", null_if_undefined(r.ap75)},
          {"ap50_95", null_if_undefined(r.ap50_95)},
          {"ar100", null_if_undefined(r.ar100)},
          {"num_truths", r.num_truths},
          {"num_detections", r.num_detections},
          {"ap_per_iou", per_iou},
          {"precision_at_recall_iou50", r.precision_at_recall_50}};
}

std::string markdown_2d(const std::map<std::string, Coco2DResult>& groups, const ReportSource& src) {
  std::ostringstream md;
  md << "# xraylift 2D detection evaluation (COCO)\n\n- Truth: `" << src.truth << "`\n- Predictions: `"
     << src.predictions << "`\n\n| group | truths | detections | AP@0.5 | AP@0.75 | AP@0.5:0.95 | AR@100 |\n"
     << "|---|---|---|---|---|---|---|\n";
  auto row = [&](const std::string& name, const Coco2DResult& r) {
    md << "| " << name << " | " << r.num_truths << " | " << r.num_detections << " | " << format_metric(r.ap50) << " | "
       << format_metric(r.ap75) << " | " << format_metric(r.ap50_95) << " | " << format_metric(r.ar100) << " |\n";
  };
  if (groups.count("all")) row("all", groups.at("all"));
  for (const auto& [name, r] : groups)
    if (name != "all") row(name, r);
  md << "\nCOCO definitions (pycocotools, one class): docs/eval.md. Plot: pr_curve.png (IoU 0.5).\n";
  return md.str();
}

std::vector<fs::path> write_report_2d(const fs::path& out_dir, const std::map<std::string, Coco2DResult>& groups,
                                      const ReportSource& src) {
  json doc = {{"format", "xraylift.eval2d"}, {"version", 1}, {"truth", src.truth}, {"predictions", src.predictions}};
  json g = json::object();
  for (const auto& [name, r] : groups) g[name] = to_json(r);
  doc["groups"] = g;
  PlotSpec s = precision_recall_axes("Precision-recall at IoU 0.5 (COCO 101 points)");
  std::size_t k = 0;
  for (const auto& [name, r] : groups) {
    if (r.precision_at_recall_50.empty() || r.num_truths == 0) continue;
    PlotSeries ser;
    ser.name = name + " (AP50 " + format_metric(r.ap50) + ")";
    ser.rgb = series_colour(k++);
    ser.x = r.recall_points;
    ser.y = r.precision_at_recall_50;
    s.series.push_back(std::move(ser));
    if (k >= 8) break;  // a readable legend
  }
  const std::vector<fs::path> paths = {out_dir / "metrics.json", out_dir / "summary.md", out_dir / "pr_curve.png"};
  core::write_file_atomic(paths[0], doc.dump(2) + "\n");
  core::write_file_atomic(paths[1], markdown_2d(groups, src));
  write_plot_png(paths[2], s);
  return paths;
}

}  // namespace xraylift::eval
