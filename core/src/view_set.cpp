#include "xraylift/core/view_set.hpp"

#include "box_json.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/json_fields.hpp"
#include "xraylift/core/rig.hpp"

using nlohmann::json;

namespace xraylift::core {
namespace {

json box2d_json(const Box2D& b) { return {b.x0, b.y0, b.x1, b.y1}; }

Box2D box2d_from(const json& v, const std::string& where) {
  XL_CHECK(v.is_array() && v.size() == 4, where, ": expected [x0, y0, x1, y1], got ", v.dump());
  for (int i = 0; i < 4; ++i) XL_CHECK(v[i].is_number(), where, "[", i, "] is not a number");
  const Box2D b{v[0].get<double>(), v[1].get<double>(), v[2].get<double>(), v[3].get<double>()};
  XL_CHECK(std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1) && b.x1 >= b.x0 &&
               b.y1 >= b.y0,
           where, ": box ", v.dump(), " is not finite with x1 >= x0 and y1 >= y0");
  return b;
}

template <int R, int C>
json matrix_json(const Eigen::Matrix<double, R, C>& m) {
  json rows = json::array();
  for (int r = 0; r < R; ++r) {
    json row = json::array();
    for (int c = 0; c < C; ++c) row.push_back(m(r, c));
    rows.push_back(row);
  }
  return rows;
}

template <int R, int C>
Eigen::Matrix<double, R, C> matrix_from(const json& v, const std::string& where) {
  XL_CHECK(v.is_array() && v.size() == R, where, ": expected a ", R, " x ", C, " matrix");
  Eigen::Matrix<double, R, C> m;
  for (int r = 0; r < R; ++r) {
    XL_CHECK(v[r].is_array() && v[r].size() == C, where, ": row ", r, " must have ", C, " numbers");
    for (int c = 0; c < C; ++c) {
      XL_CHECK(v[r][c].is_number(), where, "[", r, "][", c, "] is not a number");
      m(r, c) = v[r][c].get<double>();
    }
  }
  return m;
}

}  // namespace

std::vector<ViewBox2D> ground_truth_boxes_2d(const Camera& camera, const std::vector<BoxRecord>& boxes) {
  std::vector<ViewBox2D> out;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const ProjectedBox pb = project_box(camera, boxes[i].box);
    if (!pb.visible) continue;
    out.push_back(ViewBox2D{boxes[i].id.empty() ? cat("box", i) : boxes[i].id, pb, boxes[i].ignore});
  }
  return out;
}

json to_json(const ViewSet& set) {
  json doc = {{"format", "xraylift.views"}, {"version", 1},        {"frame", "world-LPS"}, {"units", "mm"},
              {"case_id", set.case_id},     {"render", set.render}};
  json boxes = json::array();
  for (const auto& b : set.boxes_3d) boxes.push_back(box_to_json(b, BoxSource::kTruth));
  doc["gt_boxes_3d"] = boxes;
  json cams = json::array();
  for (const auto& v : set.views) {
    json gt = json::array();
    for (const auto& b : v.boxes) {
      const ProjectedBox& p = b.projection;
      gt.push_back({{"nodule_id", b.nodule_id},
                    {"bbox_xyxy", box2d_json(p.box)},
                    {"bbox_xyxy_unclipped", box2d_json(p.unclipped)},
                    {"center_uv", {p.center_uv.x(), p.center_uv.y()}},
                    {"depth_mm", p.center_depth},
                    {"visible", p.visible},
                    {"truncation", p.truncation}});
      if (b.ignore) gt.back()["ignore"] = true;
    }
    cams.push_back({{"name", v.camera.name()},
                    {"width", v.camera.width()},
                    {"height", v.camera.height()},
                    {"data_path", v.image_path},
                    {"line_integral_path", v.line_integral_path},
                    {"mask_path", v.mask_path},
                    {"cam_intrinsic", matrix_json<3, 3>(v.camera.K())},
                    {"world2cam", matrix_json<4, 4>(v.camera.world_to_camera())},
                    {"gt_boxes_2d", gt}});
  }
  doc["cams"] = cams;
  return doc;
}

ViewSet view_set_from_json(const json& doc, const std::string& origin) {
  XL_CHECK(doc.is_object() && json_value(doc, "format", std::string(), origin) == "xraylift.views", origin,
           ": 'format' must be \"xraylift.views\"");
  XL_CHECK(json_value(doc, "version", 0, origin) == 1, origin, ": 'version' must be 1");
  ViewSet set;
  XL_CHECK(doc.contains("case_id") && doc["case_id"].is_string(), origin, ": missing text 'case_id'");
  set.case_id = doc["case_id"].get<std::string>();
  if (doc.contains("render")) set.render = doc["render"];
  if (doc.contains("gt_boxes_3d")) {
    XL_CHECK(doc["gt_boxes_3d"].is_array(), origin, ": 'gt_boxes_3d' must be a list");
    for (std::size_t i = 0; i < doc["gt_boxes_3d"].size(); ++i)
      set.boxes_3d.push_back(
          box_from_json(doc["gt_boxes_3d"][i], BoxSource::kTruth, cat(origin, ": gt_boxes_3d[", i, "]")));
  }
  XL_CHECK(doc.contains("cams") && doc["cams"].is_array(), origin, ": 'cams' must be a list");
  for (std::size_t i = 0; i < doc["cams"].size(); ++i) {
    const json& c = doc["cams"][i];
    const std::string where = cat(origin, ": cams[", i, "]");
    XL_CHECK(c.is_object(), where, ": expected an object");
    const Eigen::Matrix3d K =
        matrix_from<3, 3>(json_value(c, "cam_intrinsic", json(), where), where + ".cam_intrinsic");
    const Eigen::Matrix4d T = matrix_from<4, 4>(json_value(c, "world2cam", json(), where), where + ".world2cam");
    XL_CHECK(c.contains("width") && c["width"].is_number_integer() && c.contains("height") &&
                 c["height"].is_number_integer(),
             where, ": integer 'width' and 'height' required");
    Intrinsics in;
    in.fx = K(0, 0);
    in.fy = K(1, 1);
    in.cx = K(0, 2);
    in.cy = K(1, 2);
    in.width = json_value(c, "width", 0, where);
    in.height = json_value(c, "height", 0, where);
    XL_CHECK(in.width >= 1 && in.width <= kMaxDetectorPixels && in.height >= 1 && in.height <= kMaxDetectorPixels,
             where, ": image size ", in.width, " x ", in.height, ", expected 1 .. ", kMaxDetectorPixels,
             " pixels per side");
    ViewRecord v;
    const std::string name = json_value(c, "name", cat("view", i), where);
    try {
      v.camera = Camera(in, T.topLeftCorner<3, 3>(), T.topRightCorner<3, 1>(), name);
    } catch (const InputError& e) {
      throw InputError(cat(where, ": ", e.what()));  // the camera's own message, with the file it came from
    }
    v.image_path = json_value(c, "data_path", std::string(), where);
    v.line_integral_path = json_value(c, "line_integral_path", std::string(), where);
    v.mask_path = json_value(c, "mask_path", std::string(), where);
    if (c.contains("gt_boxes_2d")) {
      XL_CHECK(c["gt_boxes_2d"].is_array(), where, ".gt_boxes_2d must be a list");
      for (std::size_t b = 0; b < c["gt_boxes_2d"].size(); ++b) {
        const json& jb = c["gt_boxes_2d"][b];
        const std::string bw = cat(where, ".gt_boxes_2d[", b, "]");
        ViewBox2D vb;
        vb.nodule_id = json_value(jb, "nodule_id", std::string(), bw);
        vb.projection.box = box2d_from(json_value(jb, "bbox_xyxy", json(), bw), bw + ".bbox_xyxy");
        vb.projection.unclipped = jb.contains("bbox_xyxy_unclipped")
                                      ? box2d_from(jb["bbox_xyxy_unclipped"], bw + ".bbox_xyxy_unclipped")
                                      : vb.projection.box;
        const json uv = json_value(jb, "center_uv", json::array(), bw);
        XL_CHECK(uv.is_array() && uv.size() == 2 && uv[0].is_number() && uv[1].is_number(), bw,
                 ".center_uv: expected [u, v]");
        vb.projection.center_uv = {uv[0].get<double>(), uv[1].get<double>()};
        XL_CHECK(jb.contains("depth_mm") && jb["depth_mm"].is_number() && jb["depth_mm"].get<double>() > 0, bw,
                 ".depth_mm: expected a number > 0");
        vb.projection.center_depth = jb["depth_mm"].get<double>();
        vb.projection.visible = json_value(jb, "visible", true, bw);
        vb.projection.truncation = json_value(jb, "truncation", 0.0, bw);
        if (jb.contains("ignore")) {
          XL_CHECK(jb["ignore"].is_boolean(), bw, ".ignore: expected true or false");
          vb.ignore = jb["ignore"].get<bool>();
        }
        v.boxes.push_back(vb);
      }
    }
    set.views.push_back(std::move(v));
  }
  return set;
}

void write_view_set(const std::filesystem::path& path, const ViewSet& set) {
  write_file_atomic(path, to_json(set).dump(2) + "\n");
}

ViewSet read_view_set(const std::filesystem::path& path) {
  json doc;
  try {
    doc = json::parse(read_file(path));
  } catch (const json::exception& e) {  // parse errors and out-of-range numbers (1e999)
    throw InputError(cat("'", path.string(), "': malformed JSON: ", e.what()));
  }
  return view_set_from_json(doc, path.string());
}

}  // namespace xraylift::core
