#pragma once
// A case: one CT volume in the world frame (docs/ARCHITECTURE.md "Conventions") with its truth nodule boxes and
// provenance. On disk a case is a folder (docs/data.md):
//   volume.nrrd   int16 HU, gzip, space left-posterior-superior, origin such that the volume is centred
//   nodules.json  core box-set (format xraylift.boxes3d) holding this one case
//   case.json     {"format": "xraylift.case", "version": 1, "id": ..., "meta": {...}}
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/volume.hpp"

namespace xraylift::data {

struct Case {
  std::string id;                        // "LIDC-IDRI-0001", "phantom-0003", ...
  core::VolumeI16 hu;                    // HU, world frame: identity direction, centred (center_world() == 0)
  std::vector<core::BoxRecord> nodules;  // truth boxes, world mm (ignore = true for sub-3 mm marks and nonNodules)
  // Provenance: source (lidc|phantom|insert), series_uid, dicom_offset_mm (scanner = world + offset),
  // slices [{sop_uid, z_mm}], warnings, per-nodule details (readers, characteristics), ...
  nlohmann::json meta = nlohmann::json::object();
};

// Reads dir/volume.nrrd + dir/nodules.json + dir/case.json. Throws InputError naming the file on any problem.
Case load_case(const std::filesystem::path& dir);
// Loads only case.json and nodules.json (no voxels): cheap, for listings and manifests.
Case load_case_header(const std::filesystem::path& dir);
// Writes the three files into a temporary sibling folder, then renames it over dir (nothing half-written).
void save_case(const std::filesystem::path& dir, const Case& c);
// Same, plus dir/labels.nrrd (a uint8 label map on the case's grid, e.g. a phantom's) in the same atomic step.
void save_case(const std::filesystem::path& dir, const Case& c, const core::VolumeU8& labels);

// Checks the case invariants (non-empty id, valid geometry, identity direction, centred volume, valid boxes).
void validate_case(const Case& c, const std::string& where);

// The volume geometry every case uses: identity direction, centred.
core::VolumeGeometry case_geometry(const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing);

// Brings any volume into the world frame of a case: an axis-aligned direction (a signed permutation: flips,
// swapped axes) is reoriented by permuting/flipping the voxels so that index axes follow +x, +y, +z; then the
// origin is moved so that the volume is centred. Returns the offset: input mm = world mm + offset. A direction
// that is not axis-aligned (oblique) is an InputError naming `where` (resample it first).
Eigen::Vector3d bring_to_world_frame(core::VolumeI16& volume, const std::string& where);

}  // namespace xraylift::data
