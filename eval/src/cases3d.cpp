#include "xraylift/eval/cases3d.hpp"

#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "xraylift/core/error.hpp"

namespace xraylift::eval {
namespace {

void validate_records(const core::BoxSet& set, const std::string& origin, bool check_scores) {
  for (std::size_t c = 0; c < set.cases.size(); ++c) {
    const auto& cs = set.cases[c];
    XL_CHECK(!cs.case_id.empty(), origin, ": cases[", c, "]: empty case_id");
    for (std::size_t b = 0; b < cs.boxes.size(); ++b) {
      const std::string where = core::cat(origin, ": cases[", c, "] (", cs.case_id, ").boxes[", b, "]");
      core::validate_box(cs.boxes[b].box, where);
      const double s = cs.boxes[b].score;
      if (check_scores) {
        XL_CHECK(std::isfinite(s) && s >= 0 && s <= 1, where, ".score = ", s, ", expected a number in [0, 1]");
      }
      const double d = cs.boxes[b].diameter_mm;
      XL_CHECK(std::isfinite(d) && d >= 0, where, ".diameter_mm = ", d, ", expected a finite value >= 0");
    }
  }
}

}  // namespace

double truth_radius(const core::BoxRecord& truth) { return 0.5 * truth.diameter(); }

double centre_distance(const core::BoxRecord& a, const core::BoxRecord& b) {
  return (a.box.center - b.box.center).norm();
}

std::vector<EvalCase> pair_cases(const core::BoxSet& truth, const std::string& truth_origin,
                                 const core::BoxSet& predictions, const std::string& prediction_origin,
                                 const TruthFilter& filter) {
  XL_CHECK(std::isfinite(filter.min_diameter_mm) && filter.min_diameter_mm >= 0,
           "truth filter: min_diameter_mm = ", filter.min_diameter_mm, ", expected a finite value >= 0");
  XL_CHECK(filter.min_readers >= 0, "truth filter: min_readers = ", filter.min_readers, ", expected >= 0");
  XL_CHECK(std::isfinite(filter.unsized_diameter_mm) && filter.unsized_diameter_mm > 0,
           "truth filter: unsized_diameter_mm = ", filter.unsized_diameter_mm, ", expected a finite value > 0");
  validate_records(truth, truth_origin, false);
  validate_records(predictions, prediction_origin, true);
  std::vector<EvalCase> cases;
  std::unordered_map<std::string, std::size_t> index;
  for (const auto& c : truth.cases) {
    XL_CHECK(index.emplace(c.case_id, cases.size()).second, truth_origin, ": case_id '", c.case_id, "' appears twice");
    EvalCase ec{c.case_id, c.boxes, {}};
    core::apply_truth_filter(ec.truths, filter);
    for (auto& t : ec.truths)
      if (!t.sized) t.diameter_mm = filter.unsized_diameter_mm;  // LUNA16: diameter -1 -> 10 mm
    cases.push_back(std::move(ec));
  }
  std::unordered_set<std::string> seen;
  for (std::size_t c = 0; c < predictions.cases.size(); ++c) {
    const auto& pc = predictions.cases[c];
    const auto it = index.find(pc.case_id);
    XL_CHECK(it != index.end(), prediction_origin, ": cases[", c, "]: case_id '", pc.case_id,
             "' is not in the truth file ", truth_origin);
    XL_CHECK(seen.insert(pc.case_id).second, prediction_origin, ": cases[", c, "]: case_id '", pc.case_id,
             "' appears twice");
    cases[it->second].predictions = pc.boxes;
    cases[it->second].prediction_file_position = static_cast<int>(c);
  }
  return cases;
}

int count_truths(const std::vector<EvalCase>& cases, bool ignored) {
  int n = 0;
  for (const auto& c : cases)
    for (const auto& t : c.truths) n += t.ignore == ignored ? 1 : 0;
  return n;
}

int count_predictions(const std::vector<EvalCase>& cases) {
  int n = 0;
  for (const auto& c : cases) n += static_cast<int>(c.predictions.size());
  return n;
}

}  // namespace xraylift::eval
