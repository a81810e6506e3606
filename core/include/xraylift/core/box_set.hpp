#pragma once
// The one file format for 3D nodule boxes: ground truth, predictions and scenes all use it.
//   {
//     "format": "xraylift.boxes3d", "version": 1, "frame": "world-LPS", "units": "mm",
//     "source": "truth" | "prediction",
//     "cases": [ { "case_id": "LIDC-IDRI-0001",
//                  "boxes": [ { "center_mm": [x, y, z], "size_mm": [dx, dy, dz], "score": 0.93,
//                               "label": "nodule", "source": "prediction", "id": "n1",
//                               "readers": 4, "diameter_mm": 8.1, "ignore": false, "sized": true,
//                               "texture": "solid" } ] } ]
//   }
// score in [0, 1]; sizes > 0; optional per-box fields: source (defaults to the file's), id, readers
// (0 = unknown), diameter_mm (0 = derive from the box), ignore (evaluation: neither hit nor false positive),
// sized (false: a finding without a measured size, e.g. a sub-3 mm point mark or a LIDC nonNodule; its box is
// the exclusion region and evaluation uses a fixed diameter for it, LUNA16's "diameter -1 -> 10 mm"), texture
// (one of kNoduleTextures, absent = unknown; docs/eval.md "Nodule texture").
#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/box.hpp"

namespace xraylift::core {

enum class BoxSource { kTruth, kPrediction };

// A nodule's radiological texture, the three classes of the Fleischner glossary (LIDC's texture ratings 1-2, 3,
// 4-5): "solid", "part-solid", "ground-glass". Ground-glass nodules barely attenuate more than the lung around
// them, which is why radiographs miss most of them; evaluation can break down or filter by texture.
inline constexpr const char* kNoduleTextures[] = {"solid", "part-solid", "ground-glass"};
bool is_nodule_texture(const std::string& texture);
// "\"solid\", \"part-solid\" or \"ground-glass\"": the choices, for error messages.
std::string nodule_texture_choices();
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
  bool sized = true;    // false: no measured size (point marks, non-nodules)
  std::string texture;  // one of kNoduleTextures, empty = unknown

  // diameter_mm when given, else the mean extent of the box.
  double diameter() const { return diameter_mm > 0 ? diameter_mm : box.mean_extent(); }
};

// Which truths count, the rule every stage shares (rendering, the 2D dataset, evaluation): a truth fails it
// when it is too small (no measured size counts as too small once a minimum is set), has a KNOWN reader
// count (> 0) below the minimum, or has a KNOWN texture that `textures` (when not empty) does not list; failing
// truths become ignore regions, they are not dropped.
struct TruthFilter {
  double min_diameter_mm = 0.0;
  int min_readers = 0;
  double unsized_diameter_mm = 10.0;  // evaluation's diameter for truths without a measured size (LUNA16: 10 mm)
  std::vector<std::string> textures;  // empty = every texture counts

  bool passes(const BoxRecord& truth) const;
  void validate(const std::string& where) const;  // throws ConfigError naming `where`
};
// ignore = ignore || !filter.passes(record), for every record.
void apply_truth_filter(std::vector<BoxRecord>& truths, const TruthFilter& filter);

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
