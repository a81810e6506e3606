#pragma once
// DICOM CT series reading (DCMTK) into a core::VolumeI16 in HU in the world frame (docs/ARCHITECTURE.md conventions,
// docs/data.md):
//   - scans a folder recursively, groups files by SeriesInstanceUID, picks the CT series (the largest CT
//     series that is not a localizer) or the one asked for; other series are named in warnings;
//   - sorts slices by position along the slice normal (never by file name or InstanceNumber);
//   - duplicate positions: keeps the first, warns naming both files; non-uniform spacing: resamples linearly
//     to the median spacing (warns) or rejects (options.resample_nonuniform = false);
//   - applies RescaleSlope/Intercept, maps PixelPaddingValue (and anything below -1024 HU) to air (-1000... -1024);
//   - reorients axis-aligned orientations (permutations/flips) so index axes follow world x = L, y = P, z = S;
//     oblique series are rejected with a clear message;
//   - decodes compressed transfer syntaxes DCMTK has codecs for (JPEG baseline/extended/lossless, JPEG-LS, RLE);
//   - decodes files on several threads.
#include <Eigen/Core>

#include <filesystem>
#include <string>
#include <vector>

#include "xraylift/core/volume.hpp"

namespace xraylift::data {

struct DicomSlice {
  std::string sop_uid;
  double z_mm = 0;  // position along the slice normal in scanner coordinates (= ImagePositionPatient z for axial)
  std::string file;
};

struct DicomSeries {
  core::VolumeI16 hu;  // world frame: identity direction, centred
  std::string series_uid;
  std::string study_uid;
  std::string patient_id;
  std::vector<DicomSlice> slices;  // sorted by z_mm ascending (the slices actually used)
  Eigen::Vector3d scanner_origin_offset_mm = Eigen::Vector3d::Zero();  // scanner (DICOM patient) mm = world + offset
  std::vector<std::string> warnings;
  double slice_thickness_mm = 0;  // SliceThickness tag (0 when absent)
  bool resampled = false;         // true when non-uniform spacing was resampled
  // Scanner geometry of the slices, for mapping pixel contours (LIDC edge maps) into the world frame.
  Eigen::Vector3d row_direction = Eigen::Vector3d::UnitX();     // ImageOrientationPatient[0..2] (+column index)
  Eigen::Vector3d column_direction = Eigen::Vector3d::UnitY();  // ImageOrientationPatient[3..5] (+row index)
  Eigen::Vector2d pixel_spacing_mm = Eigen::Vector2d::Ones();   // PixelSpacing: [row spacing, column spacing]
  Eigen::Vector3d first_position_mm = Eigen::Vector3d::Zero();  // ImagePositionPatient of slices.front()
  int normal_axis = 2;                                          // world axis of the slice normal (2 for axial)
};

struct DicomReadOptions {
  std::string series_uid;  // empty: the CT series
  int threads = 0;         // 0: core::thread_count() (the `threads` config key)
  bool resample_nonuniform = true;
  double spacing_tolerance = 0.01;  // relative deviation from the median slice spacing that counts as uniform
};

// Throws InputError naming the folder/file and the problem (empty folder, no DICOM files, no CT series,
// missing PixelSpacing, oblique orientation, inconsistent rows/columns, unreadable pixel data, ...).
DicomSeries read_dicom_series(const std::filesystem::path& folder, const DicomReadOptions& options = {});

// One line per series found under folder (uid, modality, slice count, description): for messages and `data info`.
struct DicomSeriesSummary {
  std::string series_uid;
  std::string modality;
  std::string description;
  int files = 0;
  bool localizer = false;
};
std::vector<DicomSeriesSummary> list_dicom_series(const std::filesystem::path& folder,
                                                  std::vector<std::string>* warnings = nullptr);

// World position (mm) of a pixel (col, row) on the slice at scanner position z_mm (for LIDC contours).
Eigen::Vector3d dicom_pixel_to_world(const DicomSeries& s, double col, double row, double z_mm);

// Writes a volume as a CT DICOM series (one uncompressed file per slice, int16 stored = HU + 1024,
// RescaleIntercept -1024), atomically: files go to a temporary sibling folder renamed to `folder`.
struct DicomWriteOptions {
  std::string patient_id = "XRAYLIFT-PHANTOM";
  std::string series_uid;  // empty: derived from uid_seed
  std::string study_uid;   // empty: derived from uid_seed
  std::uint64_t uid_seed = 0;
  Eigen::Vector3d scanner_origin_offset_mm = Eigen::Vector3d::Zero();  // scanner = world + offset
  std::string description = "xraylift synthetic CT";
};
// Returns the slices written (SOP UID, z in scanner mm, file), in z order.
std::vector<DicomSlice> write_dicom_series(const std::filesystem::path& folder, const core::VolumeI16& hu,
                                           const DicomWriteOptions& options = {});

// "2.25.<decimal>" UID derived deterministically from text (a hash), for reproducible synthetic data.
std::string derived_uid(const std::string& text);

}  // namespace xraylift::data
