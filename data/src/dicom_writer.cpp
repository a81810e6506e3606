// Writes a volume as a CT DICOM series (DCMTK), for synthetic data that must go through the real reader.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dicom_codecs.hpp"
#include "dicom_tags.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/dicom.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;
using detail::ds_text;
using detail::put;

namespace {
std::uint64_t fnv1a(const std::string& text, std::uint64_t h) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string derived_uid(const std::string& text) {
  const std::uint64_t a = fnv1a(text, 1469598103934665603ull);
  const std::uint64_t b = fnv1a(text + "#", a ^ 0x9e3779b97f4a7c15ull);
  return core::cat("2.25.", (a % 9000000000000000000ull) + 1000000000000000000ull, b % 10000000000000000000ull);
}

std::vector<DicomSlice> write_dicom_series(const fs::path& folder, const core::VolumeI16& hu,
                                           const DicomWriteOptions& o) {
  const auto& g = hu.geometry();
  g.validate(folder.string() + ": volume");
  XL_CHECK(g.axis_aligned(), folder.string(), ": write_dicom_series needs an identity-direction volume");
  detail::register_dicom_codecs();
  const std::string seed = core::cat(o.uid_seed, "/", o.patient_id, "/", o.description);
  const std::string study = o.study_uid.empty() ? derived_uid("study/" + seed) : o.study_uid;
  const std::string series = o.series_uid.empty() ? derived_uid("series/" + seed) : o.series_uid;
  const std::string frame = derived_uid("frame/" + seed);
  const int nx = g.dims.x(), ny = g.dims.y(), nz = g.dims.z();
  std::vector<DicomSlice> slices;
  std::vector<Uint16> pixels(std::size_t(nx) * ny);
  core::write_folder_atomic(folder, [&](const fs::path& temp) {
    // Instance 1 is the most superior slice, as scanners usually number them.
    for (int k = nz - 1, instance = 1; k >= 0; --k, ++instance) {
      const Eigen::Vector3d corner = g.index_to_world(Eigen::Vector3d(0, 0, k)) + o.scanner_origin_offset_mm;
      const std::string sop = derived_uid(core::cat("sop/", seed, "/", k));
      const fs::path file =
          temp /
          core::cat(instance < 1000 ? (instance < 100 ? (instance < 10 ? "000" : "00") : "0") : "", instance, ".dcm");
      DcmFileFormat ff;
      DcmDataset& d = *ff.getDataset();
      const std::string f = file.string();
      put(d, DCM_SOPClassUID, UID_CTImageStorage, f);
      put(d, DCM_SOPInstanceUID, sop, f);
      put(d, DCM_StudyInstanceUID, study, f);
      put(d, DCM_SeriesInstanceUID, series, f);
      put(d, DCM_FrameOfReferenceUID, frame, f);
      put(d, DCM_Modality, "CT", f);
      put(d, DCM_PatientID, o.patient_id, f);
      put(d, DCM_PatientName, o.patient_id, f);
      put(d, DCM_SeriesDescription, o.description, f);
      put(d, DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL", f);
      put(d, DCM_SeriesNumber, "1", f);
      put(d, DCM_InstanceNumber, std::to_string(instance), f);
      put(d, DCM_ImagePositionPatient, ds_text(corner.x()) + "\\" + ds_text(corner.y()) + "\\" + ds_text(corner.z()),
          f);
      put(d, DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0", f);
      put(d, DCM_SliceLocation, ds_text(corner.z()), f);
      put(d, DCM_PixelSpacing, ds_text(g.spacing.y()) + "\\" + ds_text(g.spacing.x()),
          f);  // [row spacing, column spacing]
      put(d, DCM_SliceThickness, ds_text(g.spacing.z()), f);
      put(d, DCM_SamplesPerPixel, "1", f);
      put(d, DCM_PhotometricInterpretation, "MONOCHROME2", f);
      put(d, DCM_Rows, std::to_string(ny), f);
      put(d, DCM_Columns, std::to_string(nx), f);
      put(d, DCM_BitsAllocated, "16", f);
      put(d, DCM_BitsStored, "16", f);
      put(d, DCM_HighBit, "15", f);
      put(d, DCM_PixelRepresentation, "1", f);
      put(d, DCM_RescaleIntercept, "-1024", f);
      put(d, DCM_RescaleSlope, "1", f);
      put(d, DCM_RescaleType, "HU", f);
      put(d, DCM_WindowCenter, "-600", f);
      put(d, DCM_WindowWidth, "1500", f);
      for (int j = 0; j < ny; ++j)
        for (int i = 0; i < nx; ++i) {
          const int stored = std::clamp(int(hu.at(i, j, k)) + 1024, -32768, 32767);
          pixels[std::size_t(j) * nx + i] = static_cast<Uint16>(static_cast<std::int16_t>(stored));
        }
      OFCondition st =
          d.putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
      XL_CHECK(st.good(), f, ": cannot set PixelData (", st.text(), ")");
      st = ff.saveFile(f.c_str(), EXS_LittleEndianExplicit);
      XL_CHECK(st.good(), f, ": cannot write DICOM file (", st.text(), ")");
      slices.push_back({sop, corner.z(), (folder / file.filename()).string()});
    }
  });
  std::reverse(slices.begin(), slices.end());  // z ascending, like DicomSeries::slices
  return slices;
}

}  // namespace xraylift::data
