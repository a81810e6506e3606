// DICOM CT series -> core::VolumeI16 in HU, world frame (see dicom.hpp for the rules).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <Eigen/Geometry>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "dicom_codecs.hpp"
#include "large_volume.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/dicom.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;

namespace {

struct FileInfo {
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

std::string get_string(DcmDataset* ds, const DcmTagKey& tag) {
  OFString v;
  if (ds->findAndGetOFStringArray(tag, v).good()) {
    std::string s = v.c_str();
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
  }
  return {};
}

bool get_doubles(DcmDataset* ds, const DcmTagKey& tag, double* out, int n) {
  for (int i = 0; i < n; ++i) {
    Float64 v;
    if (ds->findAndGetFloat64(tag, v, i).bad()) return false;
    out[i] = v;
  }
  return true;
}

long get_long(DcmDataset* ds, const DcmTagKey& tag, long fallback) {
  Uint16 u;
  if (ds->findAndGetUint16(tag, u).good()) return u;
  Sint32 s;
  if (ds->findAndGetSint32(tag, s).good()) return s;
  const std::string text = get_string(ds, tag);
  if (!text.empty()) {
    try {
      return std::stol(text);
    } catch (...) {}
  }
  return fallback;
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

void read_header(DcmDataset* ds, FileInfo& f) {
  f.series_uid = get_string(ds, DCM_SeriesInstanceUID);
  f.study_uid = get_string(ds, DCM_StudyInstanceUID);
  f.patient_id = get_string(ds, DCM_PatientID);
  f.modality = get_string(ds, DCM_Modality);
  f.image_type = get_string(ds, DCM_ImageType);
  f.description = get_string(ds, DCM_SeriesDescription);
  f.sop_uid = get_string(ds, DCM_SOPInstanceUID);
  double v[6];
  if ((f.has_ipp = get_doubles(ds, DCM_ImagePositionPatient, v, 3))) f.ipp = Eigen::Vector3d(v[0], v[1], v[2]);
  if ((f.has_iop = get_doubles(ds, DCM_ImageOrientationPatient, v, 6))) {
    f.row_dir = Eigen::Vector3d(v[0], v[1], v[2]);
    f.col_dir = Eigen::Vector3d(v[3], v[4], v[5]);
  }
  f.has_spacing = get_doubles(ds, DCM_PixelSpacing, f.pixel_spacing, 2);
  get_doubles(ds, DCM_SliceThickness, &f.thickness, 1);
  f.rows = get_long(ds, DCM_Rows, 0);
  f.cols = get_long(ds, DCM_Columns, 0);
  f.bits_allocated = get_long(ds, DCM_BitsAllocated, 16);
  f.bits_stored = get_long(ds, DCM_BitsStored, f.bits_allocated);
  f.pixel_representation = get_long(ds, DCM_PixelRepresentation, 0);
  f.instance = get_long(ds, DCM_InstanceNumber, 0);
  get_doubles(ds, DCM_RescaleSlope, &f.slope, 1);
  get_doubles(ds, DCM_RescaleIntercept, &f.intercept, 1);
  f.has_padding = get_pattern(ds, DCM_PixelPaddingValue, f.padding);
  f.has_padding_limit = get_pattern(ds, DCM_PixelPaddingRangeLimit, f.padding_limit);
}

// Pixel data via DCMTK (any transfer syntax its codecs decode) into f.raw; sets f.error on failure.
void load_pixels_with_dcmtk(FileInfo& f) {
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
bool probe_trailing_pixel_data(FileInfo& f, std::uintmax_t file_size) {
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
FileInfo load_file(const fs::path& path, bool with_pixels) {
  FileInfo f;
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

// Stored 16-bit patterns of a file into buf (rows*cols values): from f.raw or with one read at f.pixel_offset.
const std::uint16_t* stored_pixels(const FileInfo& f, std::vector<std::uint16_t>& buf) {
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

std::vector<FileInfo> load_all(const std::vector<fs::path>& files, bool with_pixels, int threads) {
  detail::register_dicom_codecs();
  std::vector<FileInfo> infos(files.size());
  int n_threads = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads = std::max(1, std::min<int>(n_threads, static_cast<int>(files.size())));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) infos[i] = load_file(files[i], with_pixels);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return infos;
}

bool is_localizer(const FileInfo& f) {
  std::string t = f.image_type;
  std::transform(t.begin(), t.end(), t.begin(), ::toupper);
  return t.find("LOCALIZER") != std::string::npos || t.find("SCOUT") != std::string::npos;
}

// Index of the world axis (0..2) that a direction cosine follows and its sign; -1 when oblique.
int axis_of(const Eigen::Vector3d& d, int& sign) {
  int a;
  d.cwiseAbs().maxCoeff(&a);
  if (std::abs(std::abs(d[a]) - 1.0) > 1e-3) return -1;
  sign = d[a] > 0 ? 1 : -1;
  return a;
}

// Slope 1, integer intercept, 16 stored bits: branch-free integer code the compiler vectorizes (no aliasing:
// src and dst are distinct buffers). pad < 0 means no padding value.
template <bool kSigned>
void convert_row(const std::uint16_t* __restrict src, std::int16_t* __restrict dst, int n, int intercept, int pad) {
  for (int c = 0; c < n; ++c) {
    const int p = src[c];
    const int stored = kSigned ? int(std::int16_t(p)) : p;
    int hu = std::min(std::max(stored + intercept, -1024), 32767);
    hu = p == pad ? -1000 : hu;
    dst[c] = static_cast<std::int16_t>(hu);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

std::vector<DicomSeriesSummary> list_dicom_series(const fs::path& folder, std::vector<std::string>* warnings) {
  const auto infos = load_all(dicom_candidates(folder), false, 0);
  std::map<std::string, DicomSeriesSummary> by_uid;
  for (const auto& f : infos) {
    if (!f.error.empty()) {
      if (warnings) warnings->push_back(core::cat(f.file, ": skipped: ", f.error));
      continue;
    }
    auto& s = by_uid[f.series_uid];
    s.series_uid = f.series_uid;
    s.modality = f.modality;
    s.description = f.description;
    s.localizer = s.localizer || is_localizer(f);
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
  const auto files = dicom_candidates(folder);
  auto infos = load_all(files, true, options.threads);
  DicomSeries out;

  // Group by series; unreadable files become warnings naming them.
  std::map<std::string, std::vector<FileInfo*>> groups;
  std::string first_problem;
  for (auto& f : infos) {
    if (!f.error.empty()) {
      out.warnings.push_back(core::cat(f.file, ": skipped: ", f.error));
      if (first_problem.empty()) first_problem = core::cat(f.file, ": ", f.error);
      continue;
    }
    groups[f.series_uid].push_back(&f);
  }
  XL_CHECK(!groups.empty(), where, ": no readable DICOM image in ", files.size(),
           " file(s); first problem: ", first_problem);

  // Pick the series.
  std::string chosen = options.series_uid;
  if (!chosen.empty()) {
    XL_CHECK(groups.count(chosen), where, ": series '", chosen, "' was asked for but is not in the folder (",
             groups.size(), " series found)");
  } else {
    std::size_t best = 0;
    for (const auto& [uid, members] : groups) {
      if (members.front()->modality != "CT" || is_localizer(*members.front())) continue;
      if (members.size() > best) {
        best = members.size();
        chosen = uid;
      }
    }
    if (chosen.empty()) {
      std::string found;
      for (const auto& [uid, members] : groups)
        found += core::cat(" ", uid, " (", members.front()->modality, ", ", members.size(), " files)");
      throw core::InputError(core::cat(where, ": no CT series (Modality CT, not a localizer) found; series:", found));
    }
  }
  for (const auto& [uid, members] : groups)
    if (uid != chosen)
      out.warnings.push_back(core::cat(where, ": ignored series ", uid, " (", members.front()->modality, ", ",
                                       members.size(), " files", is_localizer(*members.front()) ? ", localizer" : "",
                                       "); using ", chosen));
  std::vector<FileInfo*> slices = groups[chosen];
  const FileInfo& ref = *slices.front();
  out.series_uid = chosen;
  out.study_uid = ref.study_uid;
  out.patient_id = ref.patient_id;
  out.slice_thickness_mm = ref.thickness;

  // Geometry checks, each naming the first file that breaks it.
  for (const FileInfo* f : slices) {
    XL_CHECK(f->has_spacing, f->file, ": PixelSpacing (0028,0030) is missing; cannot place voxels in mm");
    XL_CHECK(f->pixel_spacing[0] > 0 && f->pixel_spacing[1] > 0, f->file, ": PixelSpacing = ", f->pixel_spacing[0],
             "\\", f->pixel_spacing[1], ", expected positive values");
    XL_CHECK(f->has_ipp, f->file, ": ImagePositionPatient (0020,0032) is missing; cannot sort slices");
    XL_CHECK(f->has_iop, f->file, ": ImageOrientationPatient (0020,0037) is missing");
    XL_CHECK(f->rows == ref.rows && f->cols == ref.cols, f->file, ": ", f->rows, " x ", f->cols, " pixels, but ",
             ref.file, " has ", ref.rows, " x ", ref.cols, " (one series must have one slice size)");
    XL_CHECK(std::abs(f->pixel_spacing[0] - ref.pixel_spacing[0]) < 1e-4 &&
                 std::abs(f->pixel_spacing[1] - ref.pixel_spacing[1]) < 1e-4,
             f->file, ": PixelSpacing differs from ", ref.file);
    XL_CHECK((f->row_dir - ref.row_dir).norm() < 1e-3 && (f->col_dir - ref.col_dir).norm() < 1e-3, f->file,
             ": ImageOrientationPatient differs from ", ref.file);
  }
  XL_CHECK(slices.size() >= 2, where, ": series ", chosen, " has ", slices.size(), " slice (", ref.file,
           "), expected >= 2 for a volume");
  int row_sign = 1, col_sign = 1, normal_sign = 1;
  const Eigen::Vector3d normal = ref.row_dir.cross(ref.col_dir);
  const int row_axis = axis_of(ref.row_dir, row_sign), col_axis = axis_of(ref.col_dir, col_sign);
  const int normal_axis = axis_of(normal, normal_sign);
  XL_CHECK(row_axis >= 0 && col_axis >= 0 && normal_axis >= 0, ref.file, ": oblique ImageOrientationPatient (",
           ref.row_dir.transpose(), " / ", ref.col_dir.transpose(), ") is not supported; expected axis-aligned slices");

  // Sort along the normal; drop duplicates.
  for (FileInfo* f : slices) f->position = normal.dot(f->ipp);
  std::stable_sort(slices.begin(), slices.end(),
                   [](const FileInfo* a, const FileInfo* b) { return a->position < b->position; });
  {
    std::vector<FileInfo*> unique{slices.front()};
    for (std::size_t n = 1; n < slices.size(); ++n) {
      if (std::abs(slices[n]->position - unique.back()->position) < 1e-3) {
        out.warnings.push_back(core::cat(slices[n]->file, ": duplicate slice position ", slices[n]->position,
                                         " mm (same as ", unique.back()->file, "); kept the first"));
        continue;
      }
      unique.push_back(slices[n]);
    }
    slices.swap(unique);
  }
  XL_CHECK(slices.size() >= 2, where, ": only one distinct slice position in series ", chosen);
  for (const FileInfo* f : slices) {
    const Eigen::Vector3d d = f->ipp - ref.ipp;
    const double in_plane = (d - normal * normal.dot(d)).norm();
    XL_CHECK(in_plane < 0.05 * std::max(ref.pixel_spacing[0], ref.pixel_spacing[1]) + 1e-3, f->file,
             ": slice is shifted in-plane by ", in_plane, " mm relative to ", ref.file,
             " (gantry tilt?); not supported");
  }
  std::vector<double> gaps;
  for (std::size_t n = 1; n < slices.size(); ++n) gaps.push_back(slices[n]->position - slices[n - 1]->position);
  const double step = median(gaps);
  double worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t n = 0; n < gaps.size(); ++n)
    if (std::abs(gaps[n] - step) > worst) {
      worst = std::abs(gaps[n] - step);
      worst_at = n;
    }
  const bool uniform = worst <= options.spacing_tolerance * step;
  if (!uniform) {
    const std::string msg = core::cat(where, ": non-uniform slice spacing: median ", step, " mm, but ", gaps[worst_at],
                                      " mm between ", slices[worst_at]->file, " and ", slices[worst_at + 1]->file);
    XL_CHECK(options.resample_nonuniform, msg, " (resampling is disabled)");
    out.warnings.push_back(msg + "; resampled linearly to the median spacing");
    out.resampled = true;
  }

  // Geometry of the output volume (index axes = world axes).
  const std::size_t n_in = slices.size();
  const double span = slices.back()->position - slices.front()->position;
  const int n_out = uniform ? static_cast<int>(n_in) : static_cast<int>(std::lround(span / step)) + 1;
  const double out_step = uniform ? span / double(n_in - 1) : span / double(n_out - 1);
  const int cols = static_cast<int>(ref.cols), rows = static_cast<int>(ref.rows);
  Eigen::Vector3i dims;
  Eigen::Vector3d spacing;
  dims[row_axis] = cols;
  spacing[row_axis] = ref.pixel_spacing[1];  // along a row: columns, column spacing
  dims[col_axis] = rows;
  spacing[col_axis] = ref.pixel_spacing[0];
  dims[normal_axis] = n_out;
  spacing[normal_axis] = out_step;
  out.hu = detail::allocate_volume<std::int16_t>(case_geometry(dims, spacing));
  const Eigen::Vector3d first = slices.front()->ipp;
  const Eigen::Vector3d centre_scanner = first + ref.row_dir * (ref.pixel_spacing[1] * (cols - 1) / 2.0) +
                                         ref.col_dir * (ref.pixel_spacing[0] * (rows - 1) / 2.0) +
                                         normal * (span / 2.0);
  out.scanner_origin_offset_mm = centre_scanner;
  for (const FileInfo* f : slices) out.slices.push_back({f->sop_uid, f->ipp[normal_axis], f->file});
  if (normal_sign < 0) std::reverse(out.slices.begin(), out.slices.end());
  out.row_direction = ref.row_dir;
  out.column_direction = ref.col_dir;
  out.pixel_spacing_mm = Eigen::Vector2d(ref.pixel_spacing[0], ref.pixel_spacing[1]);
  out.first_position_mm = first;
  out.normal_axis = normal_axis;

  // Output strides for (col, row, slice) with flips so that index axes increase along +x, +y, +z.
  const std::int64_t stride[3] = {1, dims.x(), std::int64_t(dims.x()) * dims.y()};
  const std::int64_t s_col = row_sign * stride[row_axis], s_row = col_sign * stride[col_axis],
                     s_slice = normal_sign * stride[normal_axis];
  const std::int64_t base = (row_sign < 0 ? (cols - 1) * stride[row_axis] : 0) +
                            (col_sign < 0 ? (rows - 1) * stride[col_axis] : 0) +
                            (normal_sign < 0 ? std::int64_t(n_out - 1) * stride[normal_axis] : 0);

  // HU of one stored value: slope/intercept, padding and anything below -1024 -> air.
  auto to_hu = [](const FileInfo& f, std::uint16_t pattern) -> float {
    if (f.has_padding) {
      if (f.has_padding_limit) {
        const double v = f.pixel_representation ? double(std::int16_t(pattern)) : double(pattern);
        const double a = f.pixel_representation ? double(std::int16_t(f.padding)) : double(f.padding);
        const double b = f.pixel_representation ? double(std::int16_t(f.padding_limit)) : double(f.padding_limit);
        if (v >= std::min(a, b) && v <= std::max(a, b)) return -1000.f;
      } else if (pattern == f.padding) {
        return -1000.f;
      }
    }
    double stored;
    if (f.bits_stored < 16 && f.bits_stored > 0) {
      const std::uint16_t mask = static_cast<std::uint16_t>((1u << f.bits_stored) - 1);
      std::uint16_t v = pattern & mask;
      stored = (f.pixel_representation && (v >> (f.bits_stored - 1))) ? double(int(v) - int(1u << f.bits_stored))
                                                                      : double(v);
    } else {
      stored = f.pixel_representation ? double(std::int16_t(pattern)) : double(pattern);
    }
    const double hu = stored * f.slope + f.intercept;
    return static_cast<float>(std::clamp(hu, -1024.0, 32767.0));
  };
  // Stored values are 16-bit patterns: one lookup table per distinct (slope, intercept, padding, bits) makes
  // conversion a table read per pixel (the sample's padding would otherwise cost a branchy double path).
  std::map<std::string, std::vector<std::int16_t>> tables;
  std::vector<const std::int16_t*> table_of(n_in);
  for (std::size_t n = 0; n < n_in; ++n) {
    const FileInfo& f = *slices[n];
    const std::string key =
        core::cat(f.slope, "/", f.intercept, "/", f.has_padding, f.padding, "/", f.has_padding_limit, f.padding_limit,
                  "/", f.bits_stored, "/", f.pixel_representation);
    auto& t = tables[key];
    if (t.empty()) {
      t.resize(65536);
      for (std::uint32_t v = 0; v < 65536; ++v)
        t[v] = static_cast<std::int16_t>(std::lround(to_hu(f, static_cast<std::uint16_t>(v))));
    }
    table_of[n] = t.data();
  }
  auto convert_slice = [&](std::size_t n, std::int16_t* dst_base, std::int64_t slice_offset,
                           std::vector<std::uint16_t>& buf) {
    const FileInfo& f = *slices[n];
    const std::int16_t* lut = table_of[n];
    const std::uint16_t* raw = stored_pixels(f, buf);
    // Common CT case (slope 1, integer intercept, 16 stored bits): integer arithmetic the compiler vectorizes.
    const bool integer_path =
        f.slope == 1.0 && f.intercept == std::round(f.intercept) && f.bits_stored == 16 && !f.has_padding_limit;
    const int icept = static_cast<int>(f.intercept);
    const int pad = f.has_padding ? int(f.padding) : -1;
    const bool sign = f.pixel_representation != 0;
    for (int r = 0; r < rows; ++r) {
      const std::uint16_t* src = raw + std::size_t(r) * cols;
      std::int16_t* dst = dst_base + base + slice_offset + r * s_row;
      if (integer_path && s_col == 1) {
        if (sign)
          convert_row<true>(src, dst, cols, icept, pad);
        else
          convert_row<false>(src, dst, cols, icept, pad);
      } else if (s_col == 1) {
        for (int c = 0; c < cols; ++c) dst[c] = lut[src[c]];
      } else {
        for (int c = 0; c < cols; ++c) dst[c * s_col] = lut[src[c]];
      }
    }
  };
  std::int16_t* vox = out.hu.data();
  int n_threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads = std::max(1, std::min(n_threads, n_out));
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  std::mutex error_mutex;
  std::string worker_error;
  if (uniform) {
    auto work = [&] {
      std::vector<std::uint16_t> buf;
      try {
        for (int k = next++; k < n_out; k = next++) convert_slice(std::size_t(k), vox, k * s_slice, buf);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (worker_error.empty()) worker_error = e.what();
      }
    };
    for (int t = 1; t < n_threads; ++t) pool.emplace_back(work);
    work();
  } else {
    auto work = [&] {
      std::vector<std::uint16_t> buf0, buf1;
      try {
        for (int k = next++; k < n_out; k = next++) {
          const double pos = slices.front()->position + k * out_step;
          std::size_t hi = std::upper_bound(slices.begin(), slices.end(), pos,
                                            [](double p, const FileInfo* f) { return p < f->position; }) -
                           slices.begin();
          hi = std::clamp<std::size_t>(hi, 1, n_in - 1);
          const FileInfo& f0 = *slices[hi - 1];
          const FileInfo& f1 = *slices[hi];
          const std::int16_t* lut0 = table_of[hi - 1];
          const std::int16_t* lut1 = table_of[hi];
          const double w = std::clamp((pos - f0.position) / (f1.position - f0.position), 0.0, 1.0);
          const std::uint16_t* p0 = stored_pixels(f0, buf0);
          const std::uint16_t* p1 = stored_pixels(f1, buf1);
          for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) {
              const double h0 = lut0[p0[std::size_t(r) * cols + c]];
              const double h1 = lut1[p1[std::size_t(r) * cols + c]];
              vox[base + k * s_slice + r * s_row + c * s_col] =
                  static_cast<std::int16_t>(std::lround((1 - w) * h0 + w * h1));
            }
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (worker_error.empty()) worker_error = e.what();
      }
    };
    for (int t = 1; t < n_threads; ++t) pool.emplace_back(work);
    work();
  }
  for (auto& t : pool) t.join();
  if (!worker_error.empty()) throw core::InputError(worker_error);
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
