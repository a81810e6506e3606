// DICOM CT series -> core::VolumeI16 in HU, world frame (see dicom.hpp for the rules). The steps live in their own
// files: dicom_file (one file's header and pixels), dicom_series (pick, check, sort, lay out), dicom_pixels (HU).
#include <map>

#include "dicom_file.hpp"
#include "dicom_series.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/data/dicom.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;

std::vector<DicomSeriesSummary> list_dicom_series(const fs::path& folder, std::vector<std::string>* warnings) {
  const auto files = detail::load_dicom_files(detail::dicom_candidates(folder), false, 0);
  std::map<std::string, DicomSeriesSummary> by_uid;
  for (const auto& f : files) {
    if (!f.error.empty()) {
      if (warnings) warnings->push_back(core::cat(f.file, ": skipped: ", f.error));
      continue;
    }
    auto& s = by_uid[f.series_uid];
    s.series_uid = f.series_uid;
    s.modality = f.modality;
    s.description = f.description;
    s.localizer = s.localizer || detail::is_localizer(f);
    ++s.files;
  }
  std::vector<DicomSeriesSummary> out;
  for (auto& kv : by_uid) out.push_back(kv.second);
  return out;
}

DicomSeries read_dicom_series(const fs::path& folder, const DicomReadOptions& options) {
  const std::string where = folder.string();
  XL_CHECK(options.spacing_tolerance > 0 && options.spacing_tolerance < 1, where,
           ": spacing_tolerance = ", options.spacing_tolerance, ", expected (0, 1)");
  auto files = detail::load_dicom_files(detail::dicom_candidates(folder), true, options.threads);
  DicomSeries out;
  auto slices = detail::pick_series(files, where, options, out);
  const detail::SeriesLayout layout = detail::lay_out_series(std::move(slices), where, options, out);
  detail::convert_to_hu(layout, options.threads, out.hu);
  for (const auto& w : out.warnings) core::log::debug(w);
  return out;
}

Eigen::Vector3d dicom_pixel_to_world(const DicomSeries& s, double col, double row, double z_mm) {
  // Scanner point of pixel (col, row) in the slice plane, then the normal coordinate replaced by the slice's.
  Eigen::Vector3d scanner = s.first_position_mm + s.row_direction * (col * s.pixel_spacing_mm.y()) +
                            s.column_direction * (row * s.pixel_spacing_mm.x());
  scanner[s.normal_axis] = z_mm;
  return scanner - s.scanner_origin_offset_mm;
}

}  // namespace xraylift::data
