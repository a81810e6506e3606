#pragma once
// LIDC-IDRI annotation XML (docs/data.md): LidcReadMessage in the default namespace http://www.nih.gov,
// up to four readingSession elements (one per radiologist) with unblindedReadNodule (noduleID, optional
// characteristics, roi: imageZposition, imageSOP_UID, inclusion, edgeMap xCoord = column, yCoord = row) and
// nonNodule (locus) elements. Chest-radiograph files (IdriReadMessage) are refused with SkippedAnnotationFile.
#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::data {

struct DicomSeries;

struct LidcRoi {
  double z_mm = 0;  // imageZposition (scanner mm)
  std::string sop_uid;
  bool inclusion = true;              // false: a hole to exclude
  std::vector<Eigen::Vector2d> edge;  // (xCoord = column, yCoord = row) pixel indices
};

struct LidcCharacteristics {
  int subtlety = 0, internal_structure = 0, calcification = 0, sphericity = 0, margin = 0, lobulation = 0,
      spiculation = 0, texture = 0, malignancy = 0;
  nlohmann::json to_json() const;
};

// One reader's marking of one nodule.
struct LidcMark {
  int reader = 0;                                      // reading session index (0..3)
  std::string reader_id;                               // servicingRadiologistID (may be empty)
  std::string nodule_id;                               // noduleID (free text, reader-specific)
  std::optional<LidcCharacteristics> characteristics;  // absent for < 3 mm nodules
  std::vector<LidcRoi> rois;
  // A < 3 mm nodule: one roi with one edge point (its approximate centre).
  bool single_point() const { return rois.size() == 1 && rois[0].edge.size() == 1; }
};

struct LidcNonNodule {
  int reader = 0;
  std::string id;
  double z_mm = 0;
  std::string sop_uid;
  Eigen::Vector2d locus = Eigen::Vector2d::Zero();  // (column, row)
};

struct LidcAnnotations {
  std::string file;  // where it came from (messages)
  std::string series_uid, study_uid;
  int sessions = 0;
  std::vector<std::string> reader_ids;  // per session
  std::vector<LidcMark> marks;
  std::vector<LidcNonNodule> non_nodules;
  std::vector<std::string> warnings;
};

// A file that is valid XML but not a CT read message (IdriReadMessage): callers skip it with a notice.
class SkippedAnnotationFile : public core::InputError {
 public:
  using core::InputError::InputError;
};

// Throws InputError naming the file (and line) for malformed XML or a missing/invalid field;
// SkippedAnnotationFile for radiograph messages.
LidcAnnotations read_lidc_xml(const std::filesystem::path& file);
LidcAnnotations parse_lidc_xml(const std::string& text, const std::string& origin);
// The SeriesInstanceUid of an annotation file without a full parse ("" when not a CT read message).
std::string lidc_xml_series_uid(const std::filesystem::path& file);
// LIDC-style XML text (for synthetic cases: several simulated readers).
std::string write_lidc_xml(const LidcAnnotations& a);

// ---- grouping readers' marks into physical nodules ----

struct LidcNoduleOptions {
  double min_diameter_mm = 3.0;  // smaller nodules (and single-point marks) are kept with ignore = true
  int min_readers = 1;           // nodules contoured by fewer readers are kept with ignore = true
  double consensus_level = 0.5;  // a voxel is in the consensus when marked by >= this fraction of the readers
  // Marks join when their voxels come within this distance (mm); 0: the largest voxel spacing. Shrunk (pylidc
  // style) until no group holds more than four marks or two marks of one reader.
  double join_tolerance_mm = 0;
  double point_allowance_mm = 1.5;  // extra distance allowed when a mark is a single point (< 3 mm nodule)
  // LIDC edge maps are the outline just outside the nodule: pixels strictly inside it are the nodule and the
  // contour points are left out (pylidc's boolean_mask default). true: the contour points are nodule too.
  bool include_contour_points = false;
  // Findings without a size (sub-3 mm point marks, nonNodules) get a cube of this side as their exclusion
  // region, with sized = false (LUNA16 gives its size-less excluded findings diameter 10 mm).
  double unsized_diameter_mm = 10.0;
};

struct LidcReaderBox {
  int reader = 0;
  std::string nodule_id;
  core::Box3D box;  // voxel cells of this reader's mask, world mm
  int voxels = 0;
  bool single_point = false;
  double diameter_mm = 0;  // pylidc's Annotation.diameter: longest distance between two points of one contour
};

struct LidcNodule {
  std::string id;         // "N1", "N2", ... in order of z then x
  int readers = 0;        // readers who CONTOURED it (marked it as >= 3 mm): LUNA16's "3 of 4 readers"
  int point_readers = 0;  // readers who only marked it with a point (< 3 mm), not counted in `readers`
  std::vector<LidcReaderBox> reader_boxes;
  core::Box3D box;  // consensus voxels' cells, world mm (small nodules: the unsized exclusion cube)
  Eigen::Vector3d center_mm = Eigen::Vector3d::Zero();  // consensus centroid, world mm
  double diameter_mm = 0;             // mean over the contouring readers of pylidc's diameter (0 when small)
  double equivalent_diameter_mm = 0;  // diameter of the sphere of the same volume
  double volume_mm3 = 0;
  bool small = false;                                                // every mark is a single point (< 3 mm)
  bool ignore = false;                                               // below min_diameter_mm or min_readers
  std::vector<std::int64_t> consensus_voxels;                        // linear indices into the series volume
  std::vector<std::pair<int, LidcCharacteristics>> characteristics;  // (reader, values)
  // The median of the readers' texture ratings (1-5) as a core texture: <= 2 ground-glass (LIDC's "non-solid /
  // GGO" and "non-solid / mixed"), between 2 and 4 part-solid, >= 4 solid; empty when nobody rated it.
  std::string texture() const;
  core::BoxRecord record() const;  // the truth box (label "nodule", readers, diameter, ignore, sized = !small,
                                   // texture)
  nlohmann::json to_json() const;  // details for case meta
};

struct LidcNoduleResult {
  std::vector<LidcNodule> nodules;
  std::vector<core::BoxRecord> non_nodules;  // label "non-nodule", ignore, sized = false: exclusion cubes at the locus
  std::vector<std::string> warnings;         // rois on unknown slices, empty marks, ...
  std::vector<core::BoxRecord> boxes() const;  // nodules' records then non-nodules
};

// Maps rois to slices (SOP UID first, z second), rasterizes each mark, groups marks into nodules.
LidcNoduleResult group_lidc_nodules(const LidcAnnotations& a, const DicomSeries& series,
                                    const LidcNoduleOptions& o = {});

}  // namespace xraylift::data
