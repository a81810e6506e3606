#include "xraylift/eval/evaluate3d.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "xraylift/core/error.hpp"

namespace xraylift::eval {
namespace {

// Per-case results computed once; every metric (and every bootstrap sample) is a reduction over them.
struct CaseResults {
  std::vector<CaseFroc> froc;
  std::vector<std::vector<CaseMatches>> distance;  // [threshold][case]
  std::vector<std::vector<CaseMatches>> relative;
  std::vector<std::vector<CaseMatches>> iou;
};

// Cases without a prediction file position (built in memory) take their index in the list.
CaseMatches positioned(CaseMatches m, std::size_t case_index) {
  for (auto& x : m.matches)
    if (x.position < 0) x.position = static_cast<int>(case_index);
  return m;
}

CaseResults per_case(const std::vector<EvalCase>& cases, const Eval3DOptions& o) {
  CaseResults r;
  for (const auto& c : cases) r.froc.push_back(froc_case(c, o.froc));
  for (double t : o.distance_thresholds_mm) {
    r.distance.emplace_back();
    for (std::size_t c = 0; c < cases.size(); ++c)
      r.distance.back().push_back(positioned(match_by_distance(cases[c], t), c));
  }
  for (double f : o.relative_thresholds) {
    r.relative.emplace_back();
    for (std::size_t c = 0; c < cases.size(); ++c)
      r.relative.back().push_back(positioned(match_by_relative_distance(cases[c], f), c));
  }
  for (double t : o.iou_thresholds) {
    r.iou.emplace_back();
    for (const auto& c : cases) r.iou.back().push_back(match_by_iou(c, t));
  }
  return r;
}

template <typename T>
std::vector<const T*> pick(const std::vector<T>& all, const std::vector<std::size_t>& sample) {
  std::vector<const T*> out;
  out.reserve(sample.size());
  for (std::size_t i : sample) out.push_back(&all[i]);
  return out;
}

// Reduces per-case results over `sample` (case indices, repeats allowed).
Metrics3D reduce(const CaseResults& r, const std::vector<std::size_t>& sample, const Eval3DOptions& o) {
  Metrics3D m;
  m.froc = froc_curve(pick(r.froc, sample), o.froc);
  double ap_sum = 0;
  bool defined = true;
  for (std::size_t k = 0; k < o.distance_thresholds_mm.size(); ++k) {
    m.distance.push_back(accumulate_distance(pick(r.distance[k], sample), o.distance_thresholds_mm[k]));
    defined = defined && m.distance.back().ap >= 0;
    ap_sum += m.distance.back().ap;
    if (o.distance_thresholds_mm[k] == o.tp_threshold_mm) {
      m.ate_mm = m.distance.back().ate_mm;
      m.ase = m.distance.back().ase;
    }
  }
  m.map = defined ? ap_sum / o.distance_thresholds_mm.size() : -1;
  m.score = detection_score(m.map, m.ate_mm, m.ase, o.tp_threshold_mm);
  double rel_sum = 0;
  bool rel_defined = !o.relative_thresholds.empty();
  for (std::size_t k = 0; k < o.relative_thresholds.size(); ++k) {
    m.relative.push_back(accumulate_distance(pick(r.relative[k], sample), o.relative_thresholds[k]));
    rel_defined = rel_defined && m.relative.back().ap >= 0;
    rel_sum += m.relative.back().ap;
  }
  m.map_relative = rel_defined ? rel_sum / o.relative_thresholds.size() : -1;
  for (std::size_t k = 0; k < o.iou_thresholds.size(); ++k)
    m.iou.push_back(accumulate_iou(pick(r.iou[k], sample), o.iou_thresholds[k]));
  return m;
}

// Bootstrap fast path: every list sorted once over all cases; a sample is a weight (draw count) per case, and
// each sample's ranked lists are the global ones with entry copies repeated by weight (no re-sorting).
struct GlobalRanking {
  std::vector<std::pair<FrocEntry, std::size_t>> froc;
  std::vector<int> truths_per_case;                                        // non-ignored
  std::vector<std::vector<std::pair<RankedMatch, std::size_t>>> distance;  // [threshold]
};

GlobalRanking rank_globally(const CaseResults& r) {
  GlobalRanking g;
  for (std::size_t c = 0; c < r.froc.size(); ++c) {
    g.truths_per_case.push_back(static_cast<int>(r.froc[c].hit_scores.size()) + r.froc[c].missed);
    for (double s : r.froc[c].hit_scores) g.froc.push_back({{s, true}, c});
    for (double s : r.froc[c].fp_scores) g.froc.push_back({{s, false}, c});
  }
  std::stable_sort(g.froc.begin(), g.froc.end(),
                   [](const auto& a, const auto& b) { return a.first.score > b.first.score; });
  for (const auto& per_case : r.distance) {
    std::vector<std::pair<RankedMatch, std::size_t>> all;
    for (std::size_t c = 0; c < per_case.size(); ++c)
      for (const auto& m : per_case[c].matches) all.push_back({m, c});
    std::stable_sort(all.begin(), all.end(),
                     [](const auto& a, const auto& b) { return devkit_ranks_before(a.first, b.first); });
    g.distance.push_back(std::move(all));
  }
  return g;
}

template <typename T>
std::vector<T> expand(const std::vector<std::pair<T, std::size_t>>& sorted, const std::vector<int>& weight) {
  std::vector<T> out;
  out.reserve(sorted.size());
  for (const auto& [item, c] : sorted)
    for (int k = 0; k < weight[c]; ++k) out.push_back(item);
  return out;
}

Metrics3D reduce_weighted(const GlobalRanking& g, const std::vector<int>& weight, const Eval3DOptions& o) {
  Metrics3D m;
  int npos = 0, scans = 0;
  for (std::size_t c = 0; c < weight.size(); ++c) {
    npos += weight[c] * g.truths_per_case[c];
    scans += weight[c];
  }
  m.froc = froc_curve_sorted(expand(g.froc, weight), npos, scans, o.froc);
  double ap_sum = 0;
  bool defined = true;
  for (std::size_t k = 0; k < o.distance_thresholds_mm.size(); ++k) {
    const DistanceCurve d =
        accumulate_distance_ranked(expand(g.distance[k], weight), npos, o.distance_thresholds_mm[k]);
    defined = defined && d.ap >= 0;
    ap_sum += d.ap;
    if (o.distance_thresholds_mm[k] == o.tp_threshold_mm) {
      m.ate_mm = d.ate_mm;
      m.ase = d.ase;
    }
  }
  m.map = defined ? ap_sum / o.distance_thresholds_mm.size() : -1;
  m.score = detection_score(m.map, m.ate_mm, m.ase, o.tp_threshold_mm);
  return m;
}

// All cases once each, with the counts filled in.
Metrics3D reduce_all(const std::vector<EvalCase>& cases, const CaseResults& r, const Eval3DOptions& o) {
  std::vector<std::size_t> all(cases.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  Metrics3D m = reduce(r, all, o);
  m.num_cases = static_cast<int>(cases.size());
  m.num_truths = count_truths(cases, false);
  m.num_ignored_truths = count_truths(cases, true);
  m.num_predictions = count_predictions(cases);
  return m;
}

// One bootstrap resample: weight[i] = how often case i was drawn (n draws with replacement).
void draw_weights(std::mt19937_64& rng, std::vector<int>& weight) {
  std::uniform_int_distribution<std::size_t> draw(0, weight.size() - 1);
  std::fill(weight.begin(), weight.end(), 0);
  for (std::size_t i = 0; i < weight.size(); ++i) ++weight[draw(rng)];
}

// Paired sets must be the same scans with the same truths; the first difference is named.
void check_paired(const std::vector<EvalCase>& a, const std::vector<EvalCase>& b) {
  if (a.size() != b.size())
    throw core::InputError(core::cat("paired comparison: the first set has ", a.size(), " cases, the second ", b.size(),
                                     "; expected the same scans"));
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].case_id != b[i].case_id)
      throw core::InputError(core::cat("paired comparison: case ", i, " is '", a[i].case_id, "' in the first set and '",
                                       b[i].case_id, "' in the second; expected the same scans in the same order"));
    bool same = a[i].truths.size() == b[i].truths.size();
    for (std::size_t t = 0; same && t < a[i].truths.size(); ++t)
      same = a[i].truths[t].box.center == b[i].truths[t].box.center &&
             a[i].truths[t].box.size == b[i].truths[t].box.size && a[i].truths[t].ignore == b[i].truths[t].ignore;
    if (!same)
      throw core::InputError(core::cat("paired comparison: case '", a[i].case_id,
                                       "' has different truths in the two sets; expected one truth file"));
  }
}

nlohmann::json value_or_null(double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); }

// Truths outside `keep` become ignore regions.
template <typename Keep>
std::vector<EvalCase> restricted(const std::vector<EvalCase>& cases, Keep keep) {
  std::vector<EvalCase> out = cases;
  for (auto& c : out)
    for (auto& t : c.truths) t.ignore = t.ignore || !keep(t);
  return out;
}

}  // namespace

std::string SizeBin::label() const { return core::cat(min_mm, "-", max_mm, " mm"); }

void validate(const Eval3DOptions& o) {
  using core::ConfigError;
  auto check = [](bool ok, const std::string& msg) {
    if (!ok) throw ConfigError(msg);
  };
  check(!o.distance_thresholds_mm.empty(), "eval options: distance_thresholds_mm is empty");
  bool has_tp = false;
  for (double t : o.distance_thresholds_mm) {
    check(std::isfinite(t) && t > 0, core::cat("eval options: distance threshold ", t, " mm, expected > 0"));
    has_tp = has_tp || t == o.tp_threshold_mm;
  }
  check(has_tp,
        core::cat("eval options: tp_threshold_mm = ", o.tp_threshold_mm, " must be one of distance_thresholds_mm"));
  for (double t : o.iou_thresholds)
    check(std::isfinite(t) && t >= 0 && t < 1, core::cat("eval options: IoU threshold ", t, ", expected [0, 1)"));
  for (double f : o.relative_thresholds)
    check(std::isfinite(f) && f > 0, core::cat("eval options: radius-relative threshold ", f, ", expected > 0"));
  check(!o.froc.fp_rates.empty(), "eval options: fp_rates is empty");
  for (double r : o.froc.fp_rates)
    check(std::isfinite(r) && r > 0, core::cat("eval options: FP rate ", r, ", expected > 0"));
  for (const auto& b : o.size_bins)
    check(std::isfinite(b.min_mm) && std::isfinite(b.max_mm) && b.min_mm >= 0 && b.max_mm > b.min_mm,
          core::cat("eval options: size bin [", b.min_mm, ", ", b.max_mm, "), expected 0 <= min < max"));
  check(o.bootstrap_samples >= 0 && o.bootstrap_samples <= 100000,
        core::cat("eval options: bootstrap_samples = ", o.bootstrap_samples, ", expected 0..100000"));
  check(o.confidence > 0 && o.confidence < 1,
        core::cat("eval options: confidence = ", o.confidence, ", expected a value in (0, 1)"));
  o.truth_filter.validate("eval options");  // the filter's own rule, as render applies it
}

Interval percentile_interval(std::vector<double> v, double confidence) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const double pz = (1.0 - confidence) / 2.0;
  const auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(std::floor(q * static_cast<double>(v.size())));
    return v[std::min(i, v.size() - 1)];
  };
  return {at(pz), at(1.0 - pz)};
}

Metrics3D compute_metrics(const std::vector<EvalCase>& cases, const Eval3DOptions& options) {
  validate(options);
  return reduce_all(cases, per_case(cases, options), options);
}

Metrics3D resample_metrics(const std::vector<EvalCase>& cases, const std::vector<int>& draws,
                           const Eval3DOptions& options) {
  validate(options);
  XL_CHECK(draws.size() == cases.size(), "resample_metrics: ", draws.size(), " draw counts for ", cases.size(),
           " cases");
  for (int d : draws) XL_CHECK(d >= 0, "resample_metrics: negative draw count ", d);
  return reduce_weighted(rank_globally(per_case(cases, options)), draws, options);
}

Eval3DResult evaluate_3d(const std::vector<EvalCase>& cases, const Eval3DOptions& options) {
  validate(options);
  Eval3DResult result;
  const CaseResults r = per_case(cases, options);
  result.overall = reduce_all(cases, r, options);

  if (options.bootstrap_samples > 0 && !cases.empty()) {
    result.bootstrap_samples = options.bootstrap_samples;
    std::mt19937_64 rng(options.seed);
    std::vector<double> cpm, map, score;
    std::vector<std::vector<double>> sens(options.froc.fp_rates.size());
    const GlobalRanking ranking = rank_globally(r);
    std::vector<int> weight(cases.size());
    for (int b = 0; b < options.bootstrap_samples; ++b) {
      draw_weights(rng, weight);
      const Metrics3D m = reduce_weighted(ranking, weight, options);
      cpm.push_back(m.froc.cpm);
      map.push_back(m.map);
      score.push_back(m.score);
      for (std::size_t k = 0; k < sens.size(); ++k) sens[k].push_back(m.froc.sensitivity_at_rates[k]);
    }
    // A sample without any truth has undefined metrics; intervals use the defined ones.
    auto defined = [](std::vector<double> v) {
      v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return x < 0; }), v.end());
      return v;
    };
    result.cpm_ci = percentile_interval(defined(cpm), options.confidence);
    result.map_ci = percentile_interval(defined(map), options.confidence);
    result.score_ci = percentile_interval(defined(score), options.confidence);
    for (auto& s : sens) result.sensitivity_ci.push_back(percentile_interval(defined(s), options.confidence));
  }

  if (options.breakdowns) {
    for (const auto& bin : options.size_bins) {
      const auto sub = restricted(
          cases, [&](const core::BoxRecord& t) { return t.diameter() >= bin.min_mm && t.diameter() < bin.max_mm; });
      result.breakdowns.push_back({"size", bin.label(), compute_metrics(sub, options)});
    }
    std::map<int, int> reader_counts;
    for (const auto& c : cases)
      for (const auto& t : c.truths)
        if (!t.ignore && t.readers > 0) ++reader_counts[t.readers];
    for (const auto& [readers, count] : reader_counts) {
      const auto sub = restricted(cases, [r = readers](const core::BoxRecord& t) { return t.readers == r; });
      result.breakdowns.push_back(
          {"readers", core::cat(readers, readers == 1 ? " reader" : " readers"), compute_metrics(sub, options)});
    }
    // Texture rows only when some counted truth has one, in the fixed order of core::kNoduleTextures.
    for (const char* texture : core::kNoduleTextures) {
      bool present = false;
      for (const auto& c : cases)
        for (const auto& t : c.truths) present = present || (!t.ignore && t.texture == texture);
      if (!present) continue;
      const auto sub = restricted(cases, [texture](const core::BoxRecord& t) { return t.texture == texture; });
      result.breakdowns.push_back({"texture", texture, compute_metrics(sub, options)});
    }
  }
  return result;
}

PairedDifference paired_difference(const std::vector<EvalCase>& a, const std::vector<EvalCase>& b,
                                   const Eval3DOptions& options) {
  validate(options);
  check_paired(a, b);
  PairedDifference d;
  const CaseResults ra = per_case(a, options), rb = per_case(b, options);
  const Metrics3D ma = reduce_all(a, ra, options), mb = reduce_all(b, rb, options);
  d.cpm_a = ma.froc.cpm;
  d.cpm_b = mb.froc.cpm;
  d.map_a = ma.map;
  d.map_b = mb.map;
  if (d.cpm_a >= 0 && d.cpm_b >= 0) d.cpm_difference = d.cpm_b - d.cpm_a;
  if (d.map_a >= 0 && d.map_b >= 0) d.map_difference = d.map_b - d.map_a;
  if (options.bootstrap_samples == 0 || a.empty()) return d;
  d.bootstrap_samples = options.bootstrap_samples;
  const GlobalRanking ga = rank_globally(ra), gb = rank_globally(rb);
  std::mt19937_64 rng(options.seed);
  std::vector<int> weight(a.size());
  std::vector<double> cpm_diff, map_diff;
  int not_better = 0;
  for (int s = 0; s < options.bootstrap_samples; ++s) {
    draw_weights(rng, weight);
    const Metrics3D sa = reduce_weighted(ga, weight, options), sb = reduce_weighted(gb, weight, options);
    if (sa.froc.cpm < 0 || sb.froc.cpm < 0 || sa.map < 0 || sb.map < 0) continue;  // no truth drawn
    cpm_diff.push_back(sb.froc.cpm - sa.froc.cpm);
    map_diff.push_back(sb.map - sa.map);
    not_better += sb.froc.cpm <= sa.froc.cpm;
  }
  d.defined_samples = static_cast<int>(cpm_diff.size());
  if (cpm_diff.empty()) return d;
  // Differences may be negative: the interval's bounds are values of the lists, not the -1 "undefined" marker.
  const Interval ci = percentile_interval(cpm_diff, options.confidence);
  const Interval mi = percentile_interval(map_diff, options.confidence);
  d.cpm_lower = ci.lower;
  d.cpm_upper = ci.upper;
  d.map_lower = mi.lower;
  d.map_upper = mi.upper;
  d.cpm_share_not_better = static_cast<double>(not_better) / d.defined_samples;
  return d;
}

nlohmann::json to_json(const PairedDifference& d) {
  nlohmann::json j = {{"cpm", {value_or_null(d.cpm_a), value_or_null(d.cpm_b)}},
                      {"map", {value_or_null(d.map_a), value_or_null(d.map_b)}},
                      {"cpm_difference", d.cpm_difference},
                      {"map_difference", d.map_difference},
                      {"bootstrap_samples", d.bootstrap_samples},
                      {"defined_samples", d.defined_samples}};
  if (d.defined_samples > 0) {
    j["cpm_difference_ci"] = {d.cpm_lower, d.cpm_upper};
    j["map_difference_ci"] = {d.map_lower, d.map_upper};
    j["cpm_share_not_better"] = d.cpm_share_not_better;
  }
  return j;
}

nlohmann::json to_json(const Metrics3D& m, bool with_curves) {
  using nlohmann::json;
  json froc = {{"cpm", value_or_null(m.froc.cpm)},
               {"num_scans", m.froc.num_scans},
               {"num_truths", m.froc.num_truths},
               {"num_detected", m.froc.num_detected},
               {"num_false_positives", m.froc.num_false_positives}};
  json at_rates = json::array();
  for (std::size_t k = 0; k < m.froc.fp_rates.size(); ++k)
    at_rates.push_back(
        {{"fp_per_scan", m.froc.fp_rates[k]}, {"sensitivity", value_or_null(m.froc.sensitivity_at_rates[k])}});
  froc["sensitivity_at"] = at_rates;
  if (with_curves) {
    froc["curve"] = {{"fps", m.froc.fps}, {"sensitivity", m.froc.sensitivity}};
  }
  json dist = json::array();
  for (const auto& d : m.distance) {
    json e = {{"threshold_mm", d.threshold}, {"ap", value_or_null(d.ap)}, {"ate_mm", value_or_null(d.ate_mm)},
              {"ase", value_or_null(d.ase)}, {"num_tp", d.num_tp},        {"num_fp", d.num_fp}};
    if (with_curves) e["precision_101"] = d.precision;
    dist.push_back(std::move(e));
  }
  json rel = json::array();
  for (const auto& d : m.relative)
    rel.push_back({{"radius_fraction", d.threshold},
                   {"ap", value_or_null(d.ap)},
                   {"ate_mm", value_or_null(d.ate_mm)},
                   {"num_tp", d.num_tp},
                   {"num_fp", d.num_fp}});
  json iou = json::array();
  for (const auto& c : m.iou)
    iou.push_back(
        {{"iou_threshold", c.threshold}, {"ap", value_or_null(c.ap)}, {"num_tp", c.num_tp}, {"num_fp", c.num_fp}});
  return {{"num_cases", m.num_cases},
          {"num_truths", m.num_truths},
          {"num_ignored_truths", m.num_ignored_truths},
          {"num_predictions", m.num_predictions},
          {"froc", froc},
          {"nuscenes",
           {{"map", value_or_null(m.map)},
            {"ate_mm", value_or_null(m.ate_mm)},
            {"ase", value_or_null(m.ase)},
            {"score", value_or_null(m.score)},
            {"per_threshold", dist},
            {"map_radius_relative", value_or_null(m.map_relative)},
            {"radius_relative", rel}}},
          {"iou_ap", iou}};
}

nlohmann::json to_json(const Eval3DResult& r, const Eval3DOptions& o) {
  using nlohmann::json;
  json doc = {{"format", "xraylift.eval3d"}, {"version", 1}};
  json opts = {{"min_diameter_mm", o.truth_filter.min_diameter_mm},
               {"min_readers", o.truth_filter.min_readers},
               {"unsized_diameter_mm", o.truth_filter.unsized_diameter_mm},
               {"textures", o.truth_filter.textures},
               {"fp_rates", o.froc.fp_rates},
               {"duplicates_as_false_positives", o.froc.duplicates_as_false_positives},
               {"distance_thresholds_mm", o.distance_thresholds_mm},
               {"tp_threshold_mm", o.tp_threshold_mm},
               {"relative_thresholds", o.relative_thresholds},
               {"iou_thresholds", o.iou_thresholds},
               {"bootstrap_samples", o.bootstrap_samples},
               {"confidence", o.confidence},
               {"seed", o.seed}};
  doc["options"] = opts;
  doc["overall"] = to_json(r.overall, true);
  if (r.bootstrap_samples > 0) {
    auto iv = [](const Interval& i) { return json::array({value_or_null(i.lower), value_or_null(i.upper)}); };
    json sens = json::array();
    for (const auto& i : r.sensitivity_ci) sens.push_back(iv(i));
    doc["bootstrap"] = {{"samples", r.bootstrap_samples},
                        {"cpm", iv(r.cpm_ci)},
                        {"map", iv(r.map_ci)},
                        {"score", iv(r.score_ci)},
                        {"sensitivity_at", sens}};
  }
  json br = json::array();
  for (const auto& b : r.breakdowns) {
    json e = to_json(b.metrics, false);
    e["group"] = b.group;
    e["label"] = b.label;
    br.push_back(std::move(e));
  }
  doc["breakdowns"] = br;
  return doc;
}

}  // namespace xraylift::eval
