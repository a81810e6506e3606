#include "xraylift/eval/box_set2d.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/json_fields.hpp"

using nlohmann::json;

namespace xraylift::eval {
namespace {

std::string text_field(const json& obj, const char* key, const std::string& where, bool required) {
  if (!obj.contains(key)) {
    XL_CHECK(!required, where, ": missing '", key, "'");
    return "";
  }
  XL_CHECK(obj[key].is_string(), where, ".", key, ": expected text, got ", obj[key].dump());
  return obj[key].get<std::string>();
}

Box2DRecord parse_box(const json& b, core::BoxSource source, const std::string& where) {
  XL_CHECK(b.is_object(), where, ": expected an object, got ", b.dump());
  static const std::set<std::string> known = {"bbox_xyxy", "score", "label", "id", "ignore"};
  for (auto it = b.begin(); it != b.end(); ++it)
    XL_CHECK(known.count(it.key()), where, ": unknown field '", it.key(), "'");
  Box2DRecord r;
  XL_CHECK(b.contains("bbox_xyxy"), where, ": missing 'bbox_xyxy'");
  const json& v = b["bbox_xyxy"];
  XL_CHECK(v.is_array() && v.size() == 4, where, ".bbox_xyxy: expected [x0, y0, x1, y1], got ", v.dump());
  double c[4];
  for (int i = 0; i < 4; ++i) {
    XL_CHECK(v[i].is_number(), where, ".bbox_xyxy[", i, "] = ", v[i].dump(), ", expected a number");
    c[i] = v[i].get<double>();
    XL_CHECK(std::isfinite(c[i]), where, ".bbox_xyxy[", i, "] is not finite");
  }
  XL_CHECK(c[2] >= c[0] && c[3] >= c[1], where, ".bbox_xyxy = ", v.dump(), ": expected x0 <= x1 and y0 <= y1");
  r.box = core::Box2D{c[0], c[1], c[2], c[3]};
  if (b.contains("score")) {
    XL_CHECK(b["score"].is_number(), where, ".score = ", b["score"].dump(), ", expected a number in [0, 1]");
    r.score = b["score"].get<double>();
    XL_CHECK(std::isfinite(r.score) && r.score >= 0 && r.score <= 1, where, ".score = ", r.score,
             ", expected a number in [0, 1]");
  } else {
    XL_CHECK(source == core::BoxSource::kTruth, where, ": missing 'score' (required in a prediction file)");
  }
  if (b.contains("label")) r.label = text_field(b, "label", where, true);
  if (b.contains("id")) r.id = text_field(b, "id", where, true);
  if (b.contains("ignore")) {
    XL_CHECK(b["ignore"].is_boolean(), where, ".ignore: expected true or false");
    r.ignore = b["ignore"].get<bool>();
    XL_CHECK(!r.ignore || source == core::BoxSource::kTruth, where, ".ignore: only truth boxes can be ignore regions");
  }
  return r;
}

int size_field(const json& obj, const char* key, const std::string& where) {
  if (!obj.contains(key)) return 0;
  XL_CHECK(obj[key].is_number_integer() && obj[key].get<long long>() > 0, where, ".", key, " = ", obj[key].dump(),
           ", expected an integer > 0");
  return obj[key].get<int>();
}

}  // namespace

std::size_t BoxSet2D::box_count() const {
  std::size_t n = 0;
  for (const auto& i : images) n += i.boxes.size();
  return n;
}

BoxSet2D parse_box_set2d(const std::string& text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {  // parse errors and out-of-range numbers (1e999)
    throw core::InputError(core::cat(origin, ": malformed JSON: ", e.what()));
  }
  XL_CHECK(doc.is_object(), origin, ": expected a JSON object at the top level");
  XL_CHECK(core::json_value(doc, "format", std::string(), origin) == "xraylift.boxes2d", origin, ": 'format' is ",
           doc.contains("format") ? doc["format"].dump() : std::string("missing"), ", expected \"xraylift.boxes2d\"");
  XL_CHECK(core::json_value(doc, "version", 0, origin) == 1, origin, ": 'version' must be 1");
  if (doc.contains("units"))
    XL_CHECK(doc["units"] == "px", origin, ": 'units' is ", doc["units"].dump(), ", expected \"px\"");
  BoxSet2D set;
  XL_CHECK(doc.contains("source") && doc["source"].is_string() &&
               (doc["source"] == "truth" || doc["source"] == "prediction"),
           origin, ": 'source' must be \"truth\" or \"prediction\"");
  set.source = doc["source"] == "truth" ? core::BoxSource::kTruth : core::BoxSource::kPrediction;
  XL_CHECK(doc.contains("images") && doc["images"].is_array(), origin, ": 'images' must be a list");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < doc["images"].size(); ++i) {
    const json& ji = doc["images"][i];
    std::string where = core::cat(origin, ": images[", i, "]");
    XL_CHECK(ji.is_object(), where, ": expected an object");
    static const std::set<std::string> known = {"image_id", "case_id", "view", "width", "height", "boxes"};
    for (auto it = ji.begin(); it != ji.end(); ++it)
      XL_CHECK(known.count(it.key()), where, ": unknown field '", it.key(), "'");
    Image2D img;
    img.image_id = text_field(ji, "image_id", where, true);
    XL_CHECK(!img.image_id.empty(), where, ": empty image_id");
    XL_CHECK(seen.insert(img.image_id).second, where, ": image_id '", img.image_id, "' appears twice");
    where += " (" + img.image_id + ")";
    img.case_id = text_field(ji, "case_id", where, false);
    img.view = text_field(ji, "view", where, false);
    img.width = size_field(ji, "width", where);
    img.height = size_field(ji, "height", where);
    if (ji.contains("boxes")) {
      XL_CHECK(ji["boxes"].is_array(), where, ".boxes: expected a list");
      for (std::size_t b = 0; b < ji["boxes"].size(); ++b)
        img.boxes.push_back(parse_box(ji["boxes"][b], set.source, core::cat(where, ".boxes[", b, "]")));
    }
    set.images.push_back(std::move(img));
  }
  return set;
}

BoxSet2D read_box_set2d(const std::filesystem::path& path) {
  return parse_box_set2d(core::read_file(path), path.string());
}

std::string to_json(const BoxSet2D& set, int indent) {
  json images = json::array();
  for (const auto& img : set.images) {
    json boxes = json::array();
    for (const auto& b : img.boxes) {
      json jb = {{"bbox_xyxy", {b.box.x0, b.box.y0, b.box.x1, b.box.y1}}, {"label", b.label}};
      if (set.source == core::BoxSource::kPrediction) jb["score"] = b.score;
      if (!b.id.empty()) jb["id"] = b.id;
      if (b.ignore) jb["ignore"] = true;
      boxes.push_back(std::move(jb));
    }
    json ji = {{"image_id", img.image_id}};
    if (!img.case_id.empty()) ji["case_id"] = img.case_id;
    if (!img.view.empty()) ji["view"] = img.view;
    if (img.width > 0) ji["width"] = img.width;
    if (img.height > 0) ji["height"] = img.height;
    ji["boxes"] = std::move(boxes);
    images.push_back(std::move(ji));
  }
  return json{{"format", "xraylift.boxes2d"},
              {"version", 1},
              {"units", "px"},
              {"source", core::to_string(set.source)},
              {"images", std::move(images)}}
             .dump(indent) +
         "\n";
}

void write_box_set2d(const std::filesystem::path& path, const BoxSet2D& set) {
  const std::string text = to_json(set);
  parse_box_set2d(text, "writing '" + path.string() + "'");  // the same validation as reading
  core::write_file_atomic(path, text);
}

std::map<std::string, Coco2DResult> evaluate_views(const BoxSet2D& truth, const std::string& truth_origin,
                                                   const BoxSet2D& predictions, const std::string& prediction_origin,
                                                   const Coco2DOptions& options) {
  std::unordered_map<std::string, std::string> view_of;  // image id -> view ("" when unknown)
  std::map<std::string, std::pair<std::vector<GroundTruth2D>, std::vector<Detection2D>>> groups;
  auto& all = groups["all"];
  for (const auto& img : truth.images) {
    XL_CHECK(view_of.emplace(img.image_id, img.view).second, truth_origin, ": image_id '", img.image_id,
             "' appears twice");
    for (const auto& b : img.boxes) {
      const GroundTruth2D g{img.image_id, b.box, b.ignore};
      all.first.push_back(g);
      if (!img.view.empty()) groups["view " + img.view].first.push_back(g);
    }
    if (!img.view.empty()) groups["view " + img.view];  // a view with images but no boxes still appears
  }
  for (std::size_t i = 0; i < predictions.images.size(); ++i) {
    const auto& img = predictions.images[i];
    const auto it = view_of.find(img.image_id);
    XL_CHECK(it != view_of.end(), prediction_origin, ": images[", i, "]: image_id '", img.image_id,
             "' is not in the truth file ", truth_origin);
    for (std::size_t b = 0; b < img.boxes.size(); ++b) {
      const double s = img.boxes[b].score;
      XL_CHECK(std::isfinite(s) && s >= 0 && s <= 1, prediction_origin, ": images[", i, "] (", img.image_id, ").boxes[",
               b, "].score = ", s, ", expected a number in [0, 1]");
      const Detection2D d{img.image_id, img.boxes[b].box, s};
      all.second.push_back(d);
      if (!it->second.empty()) groups["view " + it->second].second.push_back(d);
    }
  }
  std::map<std::string, Coco2DResult> out;
  for (const auto& [name, g] : groups) out[name] = evaluate_coco2d(g.first, g.second, options);
  return out;
}

}  // namespace xraylift::eval
