#include "xraylift/core/box_set.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "box_json.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/json_fields.hpp"

using nlohmann::json;

namespace xraylift::core {
namespace {

BoxSource parse_source(const json& v, const std::string& where) {
  XL_CHECK(v.is_string(), where, ": expected \"truth\" or \"prediction\", got ", v.dump());
  const auto s = v.get<std::string>();
  if (s == "truth") return BoxSource::kTruth;
  if (s == "prediction") return BoxSource::kPrediction;
  throw InputError(cat(where, ": '", s, "', expected \"truth\" or \"prediction\""));
}

Eigen::Vector3d parse_vec3(const json& obj, const char* key, const std::string& where) {
  XL_CHECK(obj.contains(key), where, ": missing '", key, "'");
  const json& v = obj[key];
  XL_CHECK(v.is_array() && v.size() == 3, where, ".", key, ": expected a list of 3 numbers, got ", v.dump());
  Eigen::Vector3d out;
  for (int i = 0; i < 3; ++i) {
    XL_CHECK(v[i].is_number(), where, ".", key, "[", i, "] = ", v[i].dump(), ", expected a number");
    out[i] = v[i].get<double>();
    XL_CHECK(std::isfinite(out[i]), where, ".", key, "[", i, "] is not finite");
  }
  return out;
}

}  // namespace

BoxRecord box_from_json(const json& b, BoxSource default_source, const std::string& where) {
  XL_CHECK(b.is_object(), where, ": expected an object, got ", b.dump());
  static const std::set<std::string> known = {"center_mm", "size_mm",     "score",  "label", "source", "id",
                                              "readers",   "diameter_mm", "ignore", "sized", "texture"};
  for (auto it = b.begin(); it != b.end(); ++it) {
    XL_CHECK(known.count(it.key()), where, ": unknown field '", it.key(), "'");
  }
  BoxRecord r;
  r.source = default_source;
  r.box.center = parse_vec3(b, "center_mm", where);
  r.box.size = parse_vec3(b, "size_mm", where);
  for (int i = 0; i < 3; ++i) {
    XL_CHECK(r.box.size[i] > 0, where, ".size_mm[", i, "] = ", r.box.size[i], ", expected a value > 0 mm");
  }
  if (b.contains("score")) {
    XL_CHECK(b["score"].is_number(), where, ".score = ", b["score"].dump(), ", expected a number in [0, 1]");
    r.score = b["score"].get<double>();
    XL_CHECK(std::isfinite(r.score) && r.score >= 0 && r.score <= 1, where, ".score = ", r.score,
             ", expected a number in [0, 1]");
  }
  if (b.contains("label")) {
    XL_CHECK(b["label"].is_string(), where, ".label: expected text, got ", b["label"].dump());
    r.label = b["label"].get<std::string>();
  }
  if (b.contains("source")) r.source = parse_source(b["source"], where + ".source");
  if (b.contains("id")) {
    XL_CHECK(b["id"].is_string() || b["id"].is_number_integer(), where, ".id: expected text or an integer");
    r.id = b["id"].is_string() ? b["id"].get<std::string>() : std::to_string(b["id"].get<long long>());
  }
  if (b.contains("readers")) {
    XL_CHECK(b["readers"].is_number_integer() && b["readers"].get<int>() >= 0, where,
             ".readers = ", b["readers"].dump(), ", expected an integer >= 0");
    r.readers = b["readers"].get<int>();
  }
  if (b.contains("diameter_mm")) {
    XL_CHECK(b["diameter_mm"].is_number(), where, ".diameter_mm: expected a number");
    r.diameter_mm = b["diameter_mm"].get<double>();
    XL_CHECK(std::isfinite(r.diameter_mm) && r.diameter_mm >= 0, where, ".diameter_mm = ", r.diameter_mm,
             ", expected a finite value >= 0");
  }
  if (b.contains("ignore")) {
    XL_CHECK(b["ignore"].is_boolean(), where, ".ignore: expected true or false");
    r.ignore = b["ignore"].get<bool>();
  }
  if (b.contains("sized")) {
    XL_CHECK(b["sized"].is_boolean(), where, ".sized: expected true or false");
    r.sized = b["sized"].get<bool>();
  }
  if (b.contains("texture")) {
    const json& t = b["texture"];
    XL_CHECK(t.is_string() && is_nodule_texture(t.get<std::string>()), where, ".texture = ", t.dump(), ", expected ",
             nodule_texture_choices());
    r.texture = t.get<std::string>();
  }
  return r;
}

json box_to_json(const BoxRecord& r, BoxSource file_source) {
  json b = {{"center_mm", {r.box.center.x(), r.box.center.y(), r.box.center.z()}},
            {"size_mm", {r.box.size.x(), r.box.size.y(), r.box.size.z()}},
            {"score", r.score},
            {"label", r.label}};
  if (r.source != file_source) b["source"] = to_string(r.source);
  if (!r.id.empty()) b["id"] = r.id;
  if (r.readers > 0) b["readers"] = r.readers;
  if (r.diameter_mm > 0) b["diameter_mm"] = r.diameter_mm;
  if (r.ignore) b["ignore"] = true;
  if (!r.sized) b["sized"] = false;
  if (!r.texture.empty()) b["texture"] = r.texture;
  return b;
}

bool is_nodule_texture(const std::string& texture) {
  for (const char* known : kNoduleTextures)
    if (texture == known) return true;
  return false;
}

std::string nodule_texture_choices() {
  std::string s;
  const std::size_t n = std::size(kNoduleTextures);
  for (std::size_t i = 0; i < n; ++i)
    s += cat(i == 0 ? "" : (i + 1 == n ? " or " : ", "), '"', kNoduleTextures[i], '"');
  return s;
}

bool TruthFilter::passes(const BoxRecord& t) const {
  const bool too_small = t.sized ? t.diameter() < min_diameter_mm : min_diameter_mm > 0;
  const bool too_few_readers = t.readers > 0 && t.readers < min_readers;
  const bool other_texture = !t.texture.empty() && !textures.empty() &&
                             std::find(textures.begin(), textures.end(), t.texture) == textures.end();
  return !too_small && !too_few_readers && !other_texture;
}

void TruthFilter::validate(const std::string& where) const {
  if (!(std::isfinite(min_diameter_mm) && min_diameter_mm >= 0))
    throw ConfigError(cat(where, ": min_diameter_mm = ", min_diameter_mm, ", expected a finite value >= 0"));
  if (min_readers < 0 || min_readers > 4)
    throw ConfigError(cat(where, ": min_readers = ", min_readers, ", expected 0..4"));
  if (!(std::isfinite(unsized_diameter_mm) && unsized_diameter_mm > 0))
    throw ConfigError(cat(where, ": unsized_diameter_mm = ", unsized_diameter_mm, ", expected a finite value > 0"));
  for (const auto& t : textures)
    if (!is_nodule_texture(t))
      throw ConfigError(cat(where, ": textures lists '", t, "', expected ", nodule_texture_choices()));
}

void apply_truth_filter(std::vector<BoxRecord>& truths, const TruthFilter& filter) {
  for (auto& t : truths) t.ignore = t.ignore || !filter.passes(t);
}

const char* to_string(BoxSource s) { return s == BoxSource::kTruth ? "truth" : "prediction"; }

const CaseBoxes* BoxSet::find(const std::string& id) const {
  for (const auto& c : cases)
    if (c.case_id == id) return &c;
  return nullptr;
}

CaseBoxes& BoxSet::case_for(const std::string& id) {
  for (auto& c : cases)
    if (c.case_id == id) return c;
  cases.push_back(CaseBoxes{id, {}});
  return cases.back();
}

std::size_t BoxSet::box_count() const {
  std::size_t n = 0;
  for (const auto& c : cases) n += c.boxes.size();
  return n;
}

BoxSet parse_box_set(const std::string& text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {  // parse errors and out-of-range numbers (1e999)
    throw InputError(cat(origin, ": malformed JSON: ", e.what()));
  }
  XL_CHECK(doc.is_object(), origin, ": expected a JSON object at the top level");
  XL_CHECK(json_value(doc, "format", std::string(), origin) == "xraylift.boxes3d", origin, ": 'format' is ",
           doc.contains("format") ? doc["format"].dump() : std::string("missing"), ", expected \"xraylift.boxes3d\"");
  XL_CHECK(json_value(doc, "version", 0, origin) == 1, origin, ": 'version' must be 1");
  if (doc.contains("units")) {
    XL_CHECK(doc["units"] == "mm", origin, ": 'units' is ", doc["units"].dump(), ", expected \"mm\"");
  }
  BoxSet set;
  set.source = doc.contains("source") ? parse_source(doc["source"], origin + ": source") : BoxSource::kTruth;
  XL_CHECK(doc.contains("cases") && doc["cases"].is_array(), origin, ": 'cases' must be a list");
  std::set<std::string> seen;
  for (std::size_t c = 0; c < doc["cases"].size(); ++c) {
    const json& jc = doc["cases"][c];
    const std::string where = cat(origin, ": cases[", c, "]");
    XL_CHECK(jc.is_object() && jc.contains("case_id") && jc["case_id"].is_string(), where,
             ": expected an object with a text 'case_id'");
    CaseBoxes cb;
    cb.case_id = jc["case_id"].get<std::string>();
    XL_CHECK(!cb.case_id.empty(), where, ": empty case_id");
    XL_CHECK(seen.insert(cb.case_id).second, where, ": case_id '", cb.case_id, "' appears twice");
    if (jc.contains("boxes")) {
      XL_CHECK(jc["boxes"].is_array(), where, ".boxes: expected a list");
      for (std::size_t b = 0; b < jc["boxes"].size(); ++b) {
        cb.boxes.push_back(box_from_json(jc["boxes"][b], set.source, cat(where, " (", cb.case_id, ").boxes[", b, "]")));
      }
    }
    set.cases.push_back(std::move(cb));
  }
  return set;
}

BoxSet read_box_set(const std::filesystem::path& path) { return parse_box_set(read_file(path), path.string()); }

std::string to_json(const BoxSet& set, int indent) {
  json doc = {{"format", "xraylift.boxes3d"},
              {"version", 1},
              {"frame", "world-LPS"},
              {"units", "mm"},
              {"source", to_string(set.source)}};
  json cases = json::array();
  for (const auto& c : set.cases) {
    json boxes = json::array();
    for (const auto& r : c.boxes) boxes.push_back(box_to_json(r, set.source));
    cases.push_back({{"case_id", c.case_id}, {"boxes", std::move(boxes)}});
  }
  doc["cases"] = std::move(cases);
  return doc.dump(indent) + "\n";
}

void write_box_set(const std::filesystem::path& path, const BoxSet& set) {
  for (const auto& c : set.cases) {
    for (std::size_t b = 0; b < c.boxes.size(); ++b) {
      validate_box(c.boxes[b].box, cat("writing '", path.string(), "': case '", c.case_id, "' box ", b));
    }
  }
  write_file_atomic(path, to_json(set));
}

}  // namespace xraylift::core
