// Reading one DICOM file: header fields with DCMTK, pixels by a fast trailing-PixelData path or a full decode.
#include "dicom_file.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "dicom_codecs.hpp"
#include "dicom_tags.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::data::detail {
namespace fs = std::filesystem;

namespace {

bool get_doubles(DcmDataset* ds, const DcmTagKey& tag, double* out, int n) {
  for (int i = 0; i < n; ++i) {
    Float64 v;
    if (ds->findAndGetFloat64(tag, v, i).bad()) return false;
    out[i] = v;
  }
  return true;
}

// Reads the padding value as a 16-bit pattern whether it was written as US or SS.
bool get_pattern(DcmDataset* ds, const DcmTagKey& tag, std::uint16_t& out) {
  DcmElement* e = nullptr;
  if (ds->findAndGetElement(tag, e).bad() || !e || e->getLength() < 2) return false;
  Uint16 u;
  if (e->getUint16(u).good()) {
    out = u;
    return true;
  }
  Sint16 s;
  if (e->getSint16(s).good()) {
    out = static_cast<std::uint16_t>(s);
    return true;
  }
  return false;
}

void read_header(DcmDataset* ds, DicomFile& f) {
  f.series_uid = get_string(*ds, DCM_SeriesInstanceUID);
  f.study_uid = get_string(*ds, DCM_StudyInstanceUID);
  f.patient_id = get_string(*ds, DCM_PatientID);
  f.modality = get_string(*ds, DCM_Modality);
  f.image_type = get_string(*ds, DCM_ImageType);
  f.description = get_string(*ds, DCM_SeriesDescription);
  f.sop_uid = get_string(*ds, DCM_SOPInstanceUID);
  double v[6];
  if ((f.has_ipp = get_doubles(ds, DCM_ImagePositionPatient, v, 3))) f.ipp = Eigen::Vector3d(v[0], v[1], v[2]);
  if ((f.has_iop = get_doubles(ds, DCM_ImageOrientationPatient, v, 6))) {
    f.row_dir = Eigen::Vector3d(v[0], v[1], v[2]);
    f.col_dir = Eigen::Vector3d(v[3], v[4], v[5]);
  }
  f.has_spacing = get_doubles(ds, DCM_PixelSpacing, f.pixel_spacing, 2);
  get_doubles(ds, DCM_SliceThickness, &f.thickness, 1);
  f.rows = get_long(*ds, DCM_Rows, 0);
  f.cols = get_long(*ds, DCM_Columns, 0);
  f.bits_allocated = get_long(*ds, DCM_BitsAllocated, 16);
  f.bits_stored = get_long(*ds, DCM_BitsStored, f.bits_allocated);
  f.pixel_representation = get_long(*ds, DCM_PixelRepresentation, 0);
  f.instance = get_long(*ds, DCM_InstanceNumber, 0);
  get_doubles(ds, DCM_RescaleSlope, &f.slope, 1);
  get_doubles(ds, DCM_RescaleIntercept, &f.intercept, 1);
  f.has_padding = get_pattern(ds, DCM_PixelPaddingValue, f.padding);
  f.has_padding_limit = get_pattern(ds, DCM_PixelPaddingRangeLimit, f.padding_limit);
}

// Pixel data via DCMTK (any transfer syntax its codecs decode) into f.raw; sets f.error on failure.
void load_pixels_with_dcmtk(DicomFile& f) {
  DcmFileFormat ff;
  const OFCondition st = ff.loadFile(f.file.c_str());
  if (st.bad()) {
    f.error = core::cat("not readable as DICOM (", st.text(), ")");
    return;
  }
  DcmDataset* ds = ff.getDataset();
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  if (DcmXfer(xfer).isEncapsulated()) {
    if (ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
        !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
      f.error = core::cat("compressed pixel data (", f.transfer_syntax, ") that DCMTK's codecs cannot decode");
      return;
    }
  }
  const std::size_t count = static_cast<std::size_t>(f.rows) * static_cast<std::size_t>(f.cols);
  f.raw.resize(count);
  unsigned long have = 0;
  if (f.bits_allocated == 16) {
    const Uint16* px = nullptr;
    if (ds->findAndGetUint16Array(DCM_PixelData, px, &have).bad() || !px) {
      f.error = "no PixelData (7FE0,0010) or truncated file";
      return;
    }
    if (have < count) {
      f.error = core::cat("truncated pixel data: ", have, " values, expected ", f.rows, " x ", f.cols, " = ", count);
      return;
    }
    std::memcpy(f.raw.data(), px, count * 2);
  } else if (f.bits_allocated == 8) {
    const Uint8* px = nullptr;
    if (ds->findAndGetUint8Array(DCM_PixelData, px, &have).bad() || !px) {
      f.error = "no PixelData (7FE0,0010) or truncated file";
      return;
    }
    if (have < count) {
      f.error = core::cat("truncated pixel data: ", have, " values, expected ", count);
      return;
    }
    for (std::size_t n = 0; n < count; ++n) f.raw[n] = px[n];
  } else {
    f.error = core::cat("BitsAllocated = ", f.bits_allocated, ", expected 8 or 16");
  }
}

// Fast path for uncompressed little-endian 16-bit files whose last element is PixelData (nearly all CT files):
// checks the element header just before the last rows*cols*2 bytes and records where the values start, so the
// pixels are later read with one pread straight into a reusable buffer. Returns false when the layout differs.
bool probe_trailing_pixel_data(DicomFile& f, std::uintmax_t file_size) {
  const std::uint64_t bytes = std::uint64_t(f.rows) * std::uint64_t(f.cols) * 2;
  if (file_size < bytes + 12) return false;
  std::ifstream in(f.file, std::ios::binary);
  if (!in) return false;
  unsigned char h[12];
  in.seekg(static_cast<std::streamoff>(file_size - bytes - 12));
  if (!in.read(reinterpret_cast<char*>(h), 12)) return false;
  auto u16 = [](const unsigned char* p) { return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8); };
  auto u32 = [](const unsigned char* p) {
    return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
  };
  // Explicit VR: (7FE0,0010) "OW"|"OB" 00 00 <len32>; implicit VR: (7FE0,0010) <len32> (the last 8 of the 12 bytes).
  const bool explicit_ok =
      u16(h) == 0x7FE0 && u16(h + 2) == 0x0010 && (h[4] == 'O' && (h[5] == 'W' || h[5] == 'B')) && u32(h + 8) == bytes;
  const bool implicit_ok = u16(h + 4) == 0x7FE0 && u16(h + 6) == 0x0010 && u32(h + 8) == bytes;
  if (!(explicit_ok || implicit_ok)) return false;
  f.pixel_offset = static_cast<std::int64_t>(file_size - bytes);
  return true;
}

// Header of one file with DCMTK (large values such as PixelData are not loaded), then either the pixel fast
// path or a full DCMTK decode (compressed, big-endian, 8-bit, unusual layouts, truncated files).
DicomFile load_file(const fs::path& path, bool with_pixels) {
  DicomFile f;
  f.file = path.string();
  DcmFileFormat ff;
  const OFCondition st = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 1024);
  if (st.bad()) {
    f.error = core::cat("not readable as DICOM (", st.text(), ")");
    return f;
  }
  DcmDataset* ds = ff.getDataset();
  read_header(ds, f);
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  f.transfer_syntax = DcmXfer(xfer).getXferName();
  if (f.series_uid.empty()) {
    f.error = "no SeriesInstanceUID (0020,000E): not an image of a series";
    return f;
  }
  if (!with_pixels) return f;
  if (f.rows <= 0 || f.cols <= 0) {
    f.error = core::cat("Rows/Columns missing or zero (", f.rows, " x ", f.cols, ")");
    return f;
  }
  if (!ds->tagExists(DCM_PixelData)) {
    f.error = "no PixelData (7FE0,0010)";
    return f;
  }
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const bool little_uncompressed = xfer == EXS_LittleEndianExplicit || xfer == EXS_LittleEndianImplicit;
  if (!ec && little_uncompressed && f.bits_allocated == 16 && probe_trailing_pixel_data(f, size)) return f;
  load_pixels_with_dcmtk(f);
  return f;
}

}  // namespace

// Stored 16-bit patterns of a file into buf (rows*cols values): from f.raw or with one read at f.pixel_offset.
const std::uint16_t* stored_pixels(const DicomFile& f, std::vector<std::uint16_t>& buf) {
  if (!f.raw.empty()) return f.raw.data();
  const std::size_t count = static_cast<std::size_t>(f.rows) * static_cast<std::size_t>(f.cols);
  buf.resize(count);
  std::FILE* fp = std::fopen(f.file.c_str(), "rb");
  XL_CHECK(fp, f.file, ": cannot reopen to read pixel data");
  const bool ok =
      std::fseek(fp, static_cast<long>(f.pixel_offset), SEEK_SET) == 0 && std::fread(buf.data(), 2, count, fp) == count;
  std::fclose(fp);
  XL_CHECK(ok, f.file, ": pixel data could not be read (file changed or truncated while reading)");
  return buf.data();
}

std::vector<fs::path> dicom_candidates(const fs::path& folder) {
  XL_CHECK(fs::exists(folder), "DICOM folder '", folder.string(), "' does not exist");
  std::vector<fs::path> files;
  if (fs::is_regular_file(folder)) return {folder};
  XL_CHECK(fs::is_directory(folder), "'", folder.string(), "' is neither a folder nor a file");
  for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    const std::string name = it->path().filename().string();
    const std::string ext = it->path().extension().string();
    if (name.empty() || name[0] == '.') continue;  // hidden and temporary files
    if (ext == ".xml" || ext == ".XML" || ext == ".txt" || ext == ".json" || ext == ".nrrd" || ext == ".md") continue;
    files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  XL_CHECK(!files.empty(), "DICOM folder '", folder.string(), "' is empty (no files found, searched recursively)");
  return files;
}

std::vector<DicomFile> load_dicom_files(const std::vector<fs::path>& files, bool with_pixels, int threads) {
  register_dicom_codecs();
  std::vector<DicomFile> infos(files.size());
  core::parallel_for(
      static_cast<std::int64_t>(files.size()), [&](std::int64_t i) { infos[i] = load_file(files[i], with_pixels); },
      threads);
  return infos;
}

bool is_localizer(const DicomFile& f) {
  std::string t = f.image_type;
  std::transform(t.begin(), t.end(), t.begin(), ::toupper);
  return t.find("LOCALIZER") != std::string::npos || t.find("SCOUT") != std::string::npos;
}

}  // namespace xraylift::data::detail
