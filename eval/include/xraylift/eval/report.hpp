#pragma once
// Reports of an evaluation: metrics.json, a Markdown summary and PNG plots, written atomically into a folder.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xraylift/eval/coco2d.hpp"
#include "xraylift/eval/evaluate3d.hpp"
#include "xraylift/eval/plot.hpp"

namespace xraylift::eval {

struct ReportSource {
  std::string truth, predictions;  // file paths (for the record)
};

// "0.873" / "n/a" for undefined (-1) values.
std::string format_metric(double value, int decimals = 3);

std::string markdown_3d(const Eval3DResult& r, const Eval3DOptions& o, const ReportSource& src);
// FROC curves (LUNA16 plots sensitivity vs FPs/scan on a log2 axis from 1/8 to 8) with the CPM points marked.
PlotSpec froc_plot(const std::vector<std::pair<std::string, const FrocCurve*>>& curves);
// Precision at the 101 recall points, one curve per distance threshold (nuScenes) and per IoU threshold.
PlotSpec pr_plot_3d(const Metrics3D& m);

// metrics.json, summary.md, froc.png, pr_curves.png. Returns the paths written.
std::vector<std::filesystem::path> write_report_3d(const std::filesystem::path& out_dir, const Eval3DResult& r,
                                                   const Eval3DOptions& o, const ReportSource& src);

// Several prediction sets against one truth: compare.json, compare.md (a row each), froc_compare.png.
// `paired` (empty, or one per result after the first): each set's paired bootstrap difference against the first
// (paired_difference(first, set)), a section of its own in both files.
struct NamedResult {
  std::string name, predictions;
  Eval3DResult result;
};
std::vector<std::filesystem::path> write_compare_3d(const std::filesystem::path& out_dir,
                                                    const std::vector<NamedResult>& results, const Eval3DOptions& o,
                                                    const std::string& truth,
                                                    const std::vector<PairedDifference>& paired = {});
// "+0.012" / "-0.030": a difference with its sign.
std::string format_difference(double value, int decimals = 3);

// 2D: metrics.json, summary.md, pr_curve.png (precision at the 101 recall points at IoU 0.5, all and per view).
nlohmann::json to_json(const Coco2DResult& r);
std::string markdown_2d(const std::map<std::string, Coco2DResult>& groups, const ReportSource& src);
std::vector<std::filesystem::path> write_report_2d(const std::filesystem::path& out_dir,
                                                   const std::map<std::string, Coco2DResult>& groups,
                                                   const ReportSource& src);

}  // namespace xraylift::eval
