#pragma once
// The `xraylift.boxes2d` file: 2D truth boxes or detections per radiograph (format in docs/eval.md).
//   { "format": "xraylift.boxes2d", "version": 1, "units": "px", "source": "truth" | "prediction",
//     "images": [ { "image_id": "case/view03", "case_id": "case", "view": "view03", "width": 1024, "height": 1024,
//                   "boxes": [ { "bbox_xyxy": [x0, y0, x1, y1], "score": 0.9, "label": "nodule", "id": "n1",
//                                "ignore": false } ] } ] }
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "xraylift/core/box.hpp"
#include "xraylift/core/box_set.hpp"
#include "xraylift/eval/coco2d.hpp"

namespace xraylift::eval {

struct Box2DRecord {
  core::Box2D box;
  double score = 1.0;
  std::string label = "nodule";
  std::string id;
  bool ignore = false;
};

struct Image2D {
  std::string image_id, case_id, view;
  int width = 0, height = 0;  // 0 = unknown
  std::vector<Box2DRecord> boxes;
};

struct BoxSet2D {
  core::BoxSource source = core::BoxSource::kTruth;
  std::vector<Image2D> images;
  std::size_t box_count() const;
};

// Errors name `origin` and the entry (images[3] (case/view03).boxes[5].score).
BoxSet2D parse_box_set2d(const std::string& json_text, const std::string& origin);
BoxSet2D read_box_set2d(const std::filesystem::path& path);
std::string to_json(const BoxSet2D& set, int indent = 2);
void write_box_set2d(const std::filesystem::path& path, const BoxSet2D& set);  // atomic

// COCO AP overall ("all") and per view (the truth file's `view` of each image). Prediction image ids absent
// from the truth file are an error naming prediction_origin and the id.
std::map<std::string, Coco2DResult> evaluate_views(const BoxSet2D& truth, const std::string& truth_origin,
                                                   const BoxSet2D& predictions, const std::string& prediction_origin,
                                                   const Coco2DOptions& options = {});

}  // namespace xraylift::eval
