#pragma once
// The one file format for 3D nodule boxes: ground truth, predictions and scenes all use it.
//   {
//     "format": "xraylift.boxes3d", "version": 1, "frame": "world-LPS", "units": "mm",
//     "source": "truth" | "prediction",
//     "cases": [ { "case_id": "LIDC-IDRI-0001",
//                  "boxes": [ { "center_mm": [x, y, z], "size_mm": [dx, dy, dz], "score": 0.93,
//                               "label": "nodule", "source": "prediction", "id": "n1",
//                               "readers": 4, "diameter_mm": 8.1, "ignore": false } ] } ]
//   }
// score in [0, 1]; sizes > 0; optional per-box fields: source (defaults to the file's), id, readers
// (0 = unknown), diameter_mm (0 = derive from the box), ignore (evaluation: neither hit nor false positive).
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/box.hpp"

namespace xraylift::core {

enum class BoxSource { kTruth, kPrediction };
const char* to_string(BoxSource s);

struct BoxRecord {
  Box3D box;
  double score = 1.0;
  std::string label = "nodule";
  BoxSource source = BoxSource::kTruth;
  std::string id;
  int readers = 0;
  double diameter_mm = 0.0;
  bool ignore = false;

  // diameter_mm when given, else the mean extent of the box.
  double diameter() const { return diameter_mm > 0 ? diameter_mm : box.mean_extent(); }
};

struct CaseBoxes {
  std::string case_id;
  std::vector<BoxRecord> boxes;
};

struct BoxSet {
  BoxSource source = BoxSource::kTruth;
  std::vector<CaseBoxes> cases;

  const CaseBoxes* find(const std::string& case_id) const;
  CaseBoxes& case_for(const std::string& case_id);  // finds or appends
  std::size_t box_count() const;
};

// Parses and validates; errors name `origin` (a file path) and the entry (cases[2].boxes[5].size_mm[1]).
BoxSet parse_box_set(const std::string& json_text, const std::string& origin);
BoxSet read_box_set(const std::filesystem::path& path);
std::string to_json(const BoxSet& set, int indent = 2);
void write_box_set(const std::filesystem::path& path, const BoxSet& set);  // atomic

}  // namespace xraylift::core
