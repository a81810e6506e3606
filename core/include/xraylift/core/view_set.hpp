#pragma once
// The per-case output of the DRR stage and the input of detect2d/detect3d: cameras, image files, ground-truth
// 2D boxes per view and the 3D boxes, in one JSON file laid out like MMDetection3D/nuScenes "infos":
//   {
//     "format": "xraylift.views", "version": 1, "frame": "world-LPS", "units": "mm", "case_id": "...",
//     "render": { ...renderer settings, image window... },
//     "gt_boxes_3d": [ box entries as in xraylift.boxes3d ],
//     "cams": [ { "name": "view0", "width": W, "height": H,
//                 "data_path": "view00.png", "line_integral_path": "view00.npy", "mask_path": "",
//                 "cam_intrinsic": [[fx,0,cx],[0,fy,cy],[0,0,1]], "world2cam": 4x4 [R t; 0 1],
//                 "gt_boxes_2d": [ { "nodule_id": "...", "bbox_xyxy": [x0,y0,x1,y1], "bbox_xyxy_unclipped": [...],
//                                    "center_uv": [u, v], "depth_mm": d, "visible": true, "truncation": 0.0,
//                                    "ignore": false } ] } ]
//   }
// Paths are relative to the JSON file's folder. 2D boxes follow core::Box2D (continuous pixels). A 2D box is an
// ignore region ("ignore": true, written only then) when its 3D box is one (sub-3 mm marks, non-nodules, truths
// failing the render's truth filter): detectors neither learn it as a nodule nor as background, and 2D
// evaluation treats it as a COCO crowd region.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/camera.hpp"
#include "xraylift/core/projection.hpp"

namespace xraylift::core {

struct ViewBox2D {
  std::string nodule_id;
  ProjectedBox projection;
  bool ignore = false;  // the 3D box's ignore flag
};

struct ViewRecord {
  Camera camera;
  std::string image_path;          // 16-bit PNG (display window in ViewSet::render)
  std::string line_integral_path;  // float32 .npy, H x W
  std::string mask_path;           // optional per-pixel nodule label image
  std::vector<ViewBox2D> boxes;
};

struct ViewSet {
  std::string case_id;
  nlohmann::json render = nlohmann::json::object();
  std::vector<BoxRecord> boxes_3d;
  std::vector<ViewRecord> views;
};

// Projects every box (visible ones only) with core::project_box; each 2D box keeps its 3D box's ignore flag.
std::vector<ViewBox2D> ground_truth_boxes_2d(const Camera& camera, const std::vector<BoxRecord>& boxes);

nlohmann::json to_json(const ViewSet& set);
ViewSet view_set_from_json(const nlohmann::json& doc, const std::string& origin);
void write_view_set(const std::filesystem::path& path, const ViewSet& set);  // atomic
ViewSet read_view_set(const std::filesystem::path& path);

}  // namespace xraylift::core
