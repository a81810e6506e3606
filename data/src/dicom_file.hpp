#pragma once
// One DICOM file as the series reader sees it: its header fields and where its pixels are (internal to data).
#include <Eigen/Core>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace xraylift::data::detail {

struct DicomFile {
  std::string file;
  std::string error;  // non-empty: not usable (reason)
  std::string series_uid, study_uid, patient_id, modality, image_type, description, sop_uid, transfer_syntax;
  bool has_ipp = false, has_iop = false, has_spacing = false;
  Eigen::Vector3d ipp = Eigen::Vector3d::Zero();
  Eigen::Vector3d row_dir = Eigen::Vector3d::UnitX(), col_dir = Eigen::Vector3d::UnitY();
  double pixel_spacing[2] = {0, 0};  // [row spacing, column spacing]
  double thickness = 0;
  long rows = 0, cols = 0, bits_allocated = 0, bits_stored = 0, pixel_representation = 0, instance = 0;
  double slope = 1, intercept = 0;
  bool has_padding = false, has_padding_limit = false;
  std::uint16_t padding = 0, padding_limit = 0;
  std::vector<std::uint16_t> raw;  // stored values as 16-bit patterns (8-bit data widened)
  double position = 0;             // along the slice normal (filled when the series is assembled)
  std::int64_t pixel_offset = -1;  // fast path: byte offset of the PixelData values (uncompressed little endian)
};

// The files of a folder (recursively) that may be DICOM: hidden files and known non-DICOM endings are skipped.
std::vector<std::filesystem::path> dicom_candidates(const std::filesystem::path& folder);

// Headers (and, with_pixels, pixel data or its offset) of every file, on core::parallel_for's workers.
// A file that cannot be read gets DicomFile::error; nothing throws for one bad file.
std::vector<DicomFile> load_dicom_files(const std::vector<std::filesystem::path>& files, bool with_pixels, int threads);

// Stored 16-bit patterns of a file (rows * cols values): from f.raw, or read at f.pixel_offset into buf.
const std::uint16_t* stored_pixels(const DicomFile& f, std::vector<std::uint16_t>& buf);

bool is_localizer(const DicomFile& f);

}  // namespace xraylift::data::detail
