// Single-frame projection radiographs as DICOM (docs/data.md "Radiographs"): reading what a DX/CR/RF/SC file says
// about its values and geometry, and writing a view as a DX-like Secondary Capture with xraylift's camera.
#include "xraylift/data/radiograph.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "dicom_codecs.hpp"
#include "dicom_tags.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/dicom.hpp"

namespace xraylift::data {
namespace fs = std::filesystem;
using detail::ds_text;
using detail::get_long;
using detail::get_string;
using detail::put;
using detail::tag_name;

namespace {

constexpr Uint16 kPrivateGroup = 0x0029;
const DcmTagKey kCreatorTag(kPrivateGroup, 0x0010);
const DcmTagKey kIntrinsicsTag(kPrivateGroup, 0x1000);
const DcmTagKey kWorld2CamTag(kPrivateGroup, 0x1001);
const DcmTagKey kI0Tag(kPrivateGroup, 0x1002);
const DcmTagKey kNameTag(kPrivateGroup, 0x1003);

std::optional<double> get_double(DcmItem& ds, const DcmTagKey& tag, unsigned long pos = 0) {
  Float64 v;
  if (ds.findAndGetFloat64(tag, v, pos).good() && std::isfinite(v)) return v;
  return std::nullopt;
}

void put_doubles(DcmDataset& d, const DcmTagKey& key, const std::vector<double>& values, const std::string& file) {
  const OFCondition st =
      d.putAndInsertFloat64Array(DcmTag(key, DcmVR(EVR_FD)), values.data(), static_cast<unsigned long>(values.size()));
  XL_CHECK(st.good(), file, ": cannot set private tag ", tag_name(key), " (", st.text(), ")");
}

// The private camera block, when the creator is xraylift's; nullopt when the file has none.
std::optional<core::Camera> read_private_camera(DcmDataset& ds, const std::string& file, int width, int height) {
  if (get_string(ds, kCreatorTag) != kRadiographPrivateCreator) return std::nullopt;
  double k[4], m[12];
  for (int i = 0; i < 4; ++i) {
    const auto v = get_double(ds, kIntrinsicsTag, i);
    XL_CHECK(v, file, ": private tag (0029,1000) (xraylift camera intrinsics) is missing or has fewer than 4 values");
    k[i] = *v;
  }
  for (int i = 0; i < 12; ++i) {
    const auto v = get_double(ds, kWorld2CamTag, i);
    XL_CHECK(v, file, ": private tag (0029,1001) (xraylift world2cam) is missing or has fewer than 12 values");
    m[i] = *v;
  }
  core::Intrinsics in;
  in.fx = k[0], in.fy = k[1], in.cx = k[2], in.cy = k[3];
  in.width = width, in.height = height;
  Eigen::Matrix3d R;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) R(r, c) = m[r * 3 + c];
  const Eigen::Vector3d t(m[9], m[10], m[11]);
  try {
    return core::Camera(in, R, t, get_string(ds, kNameTag));
  } catch (const core::InputError& e) {
    throw core::InputError(core::cat(file, ": private xraylift camera (0029,1000..1003): ", e.what()));
  }
}

}  // namespace

bool looks_like_dicom(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char buf[132];
  if (!in.read(buf, sizeof buf)) return false;
  return std::string(buf + 128, 4) == "DICM";
}

Radiograph read_radiograph_dicom(const fs::path& path) {
  detail::register_dicom_codecs();
  Radiograph r;
  r.file = path.string();
  const std::string& f = r.file;
  XL_CHECK(fs::is_regular_file(path), f, ": radiograph does not exist or is not a file");
  DcmFileFormat ff;
  const OFCondition st = ff.loadFile(path.c_str());
  XL_CHECK(st.good(), f, ": not readable as DICOM (", st.text(), ")");
  DcmDataset& ds = *ff.getDataset();
  r.modality = get_string(ds, DCM_Modality);
  r.sop_class_uid = get_string(ds, DCM_SOPClassUID);
  r.height = static_cast<int>(get_long(ds, DCM_Rows, 0));
  r.width = static_cast<int>(get_long(ds, DCM_Columns, 0));
  XL_CHECK(r.width > 0 && r.height > 0 && r.width <= 16384 && r.height <= 16384, f, ": Rows x Columns = ", r.height,
           " x ", r.width, ", expected 1 .. 16384 each");
  const long frames = get_long(ds, DCM_NumberOfFrames, 1);
  XL_CHECK(frames == 1, f, ": NumberOfFrames (0028,0008) = ", frames, ", expected a single-frame radiograph");
  const long samples = get_long(ds, DCM_SamplesPerPixel, 1);
  XL_CHECK(samples == 1, f, ": SamplesPerPixel (0028,0002) = ", samples, ", expected 1 (a grey-scale radiograph)");
  const long bits_allocated = get_long(ds, DCM_BitsAllocated, 0);
  XL_CHECK(bits_allocated == 16, f, ": BitsAllocated (0028,0100) = ", bits_allocated,
           ", expected 16 (an 8-bit radiograph cannot hold the range of line integrals)");
  r.bits_stored = static_cast<int>(get_long(ds, DCM_BitsStored, 16));
  XL_CHECK(r.bits_stored >= 9 && r.bits_stored <= 16, f, ": BitsStored (0028,0101) = ", r.bits_stored,
           ", expected 9 .. 16");
  const long representation = get_long(ds, DCM_PixelRepresentation, 0);
  r.photometric = get_string(ds, DCM_PhotometricInterpretation);
  XL_CHECK(r.photometric == "MONOCHROME1" || r.photometric == "MONOCHROME2", f,
           ": PhotometricInterpretation (0028,0004) = '", r.photometric, "', expected MONOCHROME1 or MONOCHROME2");
  r.intensity_relationship = get_string(ds, DCM_PixelIntensityRelationship);
  XL_CHECK(r.intensity_relationship != "LOG", f,
           ": PixelIntensityRelationship (0028,1040) = LOG: the values are already log-transformed, expected "
           "intensities (LIN or absent)");
  r.intensity_sign = static_cast<int>(get_long(ds, DCM_PixelIntensityRelationshipSign, 0));
  if (r.intensity_sign != 1 && r.intensity_sign != -1) r.intensity_sign = 0;
  r.inverted = r.intensity_sign == -1 || (r.intensity_sign == 0 && r.photometric == "MONOCHROME1");
  r.rescale_slope = get_double(ds, DCM_RescaleSlope).value_or(1.0);
  r.rescale_intercept = get_double(ds, DCM_RescaleIntercept).value_or(0.0);
  XL_CHECK(r.rescale_slope != 0, f, ": RescaleSlope (0028,1053) = 0, expected a non-zero slope");

  if (auto v = get_double(ds, DCM_ImagerPixelSpacing); v && get_double(ds, DCM_ImagerPixelSpacing, 1)) {
    r.row_spacing_mm = *v, r.column_spacing_mm = *get_double(ds, DCM_ImagerPixelSpacing, 1);
    r.spacing_tag = "ImagerPixelSpacing (0018,1164)";
  } else if (auto p = get_double(ds, DCM_PixelSpacing); p && get_double(ds, DCM_PixelSpacing, 1)) {
    r.row_spacing_mm = *p, r.column_spacing_mm = *get_double(ds, DCM_PixelSpacing, 1);
    r.spacing_tag = "PixelSpacing (0028,0030)";
  }
  if (r.row_spacing_mm)
    XL_CHECK(*r.row_spacing_mm > 0 && *r.column_spacing_mm > 0, f, ": ", r.spacing_tag, " = ", *r.row_spacing_mm, "\\",
             *r.column_spacing_mm, ", expected positive spacings (mm)");
  r.source_detector_mm = get_double(ds, DCM_DistanceSourceToDetector);
  r.source_patient_mm = get_double(ds, DCM_DistanceSourceToPatient);
  r.window_center = get_double(ds, DCM_WindowCenter);
  r.window_width = get_double(ds, DCM_WindowWidth);
  r.patient_orientation = get_string(ds, DCM_PatientOrientation);
  if (get_string(ds, kCreatorTag) == kRadiographPrivateCreator) {
    r.i0 = get_double(ds, kI0Tag);
    r.camera = read_private_camera(ds, f, r.width, r.height);
  }

  // Pixels: decompress when needed, then the 16-bit values.
  XL_CHECK(ds.tagExists(DCM_PixelData), f, ": no PixelData (7FE0,0010)");
  if (DcmXfer(ds.getOriginalXfer()).isEncapsulated())
    XL_CHECK(
        ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).good() && ds.canWriteXfer(EXS_LittleEndianExplicit),
        f, ": compressed pixel data (", DcmXfer(ds.getOriginalXfer()).getXferName(),
        ") that DCMTK's codecs cannot decode");
  const Uint16* px = nullptr;
  unsigned long have = 0;
  const std::size_t count = std::size_t(r.width) * std::size_t(r.height);
  XL_CHECK(ds.findAndGetUint16Array(DCM_PixelData, px, &have).good() && px, f,
           ": PixelData (7FE0,0010) is not readable as 16-bit values");
  XL_CHECK(have >= count, f, ": truncated pixel data: ", have, " values, expected ", r.height, " x ", r.width, " = ",
           count);
  const unsigned mask = (1u << r.bits_stored) - 1u;
  const double top = double(mask);
  r.values.resize(count);
  for (std::size_t n = 0; n < count; ++n) {
    const unsigned raw = px[n] & mask;
    double v = representation == 1 && (raw >> (r.bits_stored - 1)) ? double(raw) - double(mask) - 1.0 : double(raw);
    if (r.inverted) v = top - v;
    r.values[n] = r.rescale_slope * v + r.rescale_intercept;
  }
  return r;
}

void write_radiograph_dicom(const fs::path& file, const std::vector<std::uint16_t>& stored, const core::Camera& camera,
                            const RadiographWriteOptions& o) {
  const std::string f = file.string();
  const int W = camera.width(), H = camera.height();
  XL_CHECK(stored.size() == std::size_t(W) * std::size_t(H), f, ": ", stored.size(), " pixels, expected ", H, " x ", W,
           " (the camera's image size)");
  XL_CHECK(std::isfinite(o.i0) && o.i0 > 0 && o.i0 <= 65535, f, ": I0 = ", o.i0, ", expected 0 < I0 <= 65535");
  detail::register_dicom_codecs();
  const std::string seed = core::cat(o.uid_seed, "/", o.patient_id);
  DcmFileFormat ff;
  DcmDataset& d = *ff.getDataset();
  put(d, DCM_SOPClassUID, UID_SecondaryCaptureImageStorage, f);
  put(d, DCM_SOPInstanceUID, derived_uid(core::cat("sop/", seed, "/", o.instance)), f);
  put(d, DCM_StudyInstanceUID, derived_uid("study/" + seed), f);
  put(d, DCM_SeriesInstanceUID, derived_uid("series/" + seed), f);
  put(d, DCM_FrameOfReferenceUID, derived_uid("frame/" + seed), f);
  put(d, DCM_Modality, "DX", f);
  put(d, DCM_ConversionType, "SYN", f);  // synthetic image (Secondary Capture)
  put(d, DCM_ImageType, "DERIVED\\SECONDARY", f);
  put(d, DCM_PresentationIntentType, "FOR PROCESSING", f);
  put(d, DCM_PatientID, o.patient_id, f);
  put(d, DCM_PatientName, o.patient_id, f);
  put(d, DCM_StudyDescription, o.study_description, f);
  put(d, DCM_SeriesDescription, core::cat("xraylift DRR ", camera.name()), f);
  put(d, DCM_SeriesNumber, "1", f);
  put(d, DCM_InstanceNumber, std::to_string(o.instance), f);
  put(d, DCM_SamplesPerPixel, "1", f);
  // Stored values are transmitted intensities (bone low); MONOCHROME1 shows low values white, so viewers show the
  // familiar radiograph. The sign attribute says what the values mean, so import does not invert them.
  put(d, DCM_PhotometricInterpretation, "MONOCHROME1", f);
  put(d, DCM_PixelIntensityRelationship, "LIN", f);
  put(d, DCM_PixelIntensityRelationshipSign, "1", f);
  put(d, DCM_Rows, std::to_string(H), f);
  put(d, DCM_Columns, std::to_string(W), f);
  put(d, DCM_BitsAllocated, "16", f);
  put(d, DCM_BitsStored, "16", f);
  put(d, DCM_HighBit, "15", f);
  put(d, DCM_PixelRepresentation, "0", f);
  put(d, DCM_RescaleIntercept, "0", f);
  put(d, DCM_RescaleSlope, "1", f);
  put(d, DCM_RescaleType, "US", f);
  const auto [lo, hi] = std::minmax_element(stored.begin(), stored.end());
  put(d, DCM_WindowCenter, ds_text(0.5 * (double(*lo) + double(*hi))), f);
  put(d, DCM_WindowWidth, ds_text(std::max(1.0, double(*hi) - double(*lo) + 1)), f);
  if (o.sdd_mm > 0) {
    const std::string spacing = ds_text(o.sdd_mm / camera.intrinsics().fy) + "\\" +
                                ds_text(o.sdd_mm / camera.intrinsics().fx);  // [row spacing, column spacing]
    put(d, DCM_ImagerPixelSpacing, spacing, f);
    put(d, DCM_PixelSpacing, spacing, f);
    put(d, DCM_DistanceSourceToDetector, ds_text(o.sdd_mm), f);
    // The depth of the world origin (the isocentre of xraylift's rigs) along the principal ray.
    put(d, DCM_DistanceSourceToPatient, ds_text(camera.translation().z()), f);
  }
  // The private camera block (exact doubles).
  put(d, DcmTag(kCreatorTag, DcmVR(EVR_LO)), kRadiographPrivateCreator, f);
  const auto& in = camera.intrinsics();
  put_doubles(d, kIntrinsicsTag, {in.fx, in.fy, in.cx, in.cy}, f);
  std::vector<double> m;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) m.push_back(camera.rotation()(r, c));
  for (int r = 0; r < 3; ++r) m.push_back(camera.translation()(r));
  put_doubles(d, kWorld2CamTag, m, f);
  put_doubles(d, kI0Tag, {o.i0}, f);
  put(d, DcmTag(kNameTag, DcmVR(EVR_LO)), camera.name(), f);
  OFCondition st = d.putAndInsertUint16Array(DCM_PixelData, stored.data(), static_cast<unsigned long>(stored.size()));
  XL_CHECK(st.good(), f, ": cannot set PixelData (", st.text(), ")");
  if (!file.parent_path().empty()) fs::create_directories(file.parent_path());
  const fs::path temp = core::temp_path_for(file);
  st = ff.saveFile(temp.c_str(), EXS_LittleEndianExplicit);
  if (st.bad()) {
    std::error_code ec;
    fs::remove(temp, ec);
    throw core::InputError(core::cat(f, ": cannot write DICOM file (", st.text(), ")"));
  }
  core::commit_temp_file(temp, file);
}

}  // namespace xraylift::data
