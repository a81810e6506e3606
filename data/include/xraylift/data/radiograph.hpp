#pragma once
// Projection radiographs as single-frame DICOM files (DCMTK), docs/data.md "Radiographs":
//   - read_radiograph_dicom: any uncompressed or DCMTK-decodable DX / CR / RF / Secondary Capture image with one
//     frame and one sample per pixel; the stored values, the attributes that say what they mean
//     (PhotometricInterpretation, PixelIntensityRelationship(Sign), RescaleSlope/Intercept), the geometry that is
//     present (ImagerPixelSpacing or PixelSpacing, DistanceSourceToDetector/Patient) and, in files written by
//     `xraylift render --dicom`, the full camera and I0 in xraylift's private block (group 0029, creator
//     "XRAYLIFT 1");
//   - write_radiograph_dicom: a DX-like Secondary Capture of one view (16-bit stored transmission, MONOCHROME1 so
//     that viewers show bone bright, PixelIntensityRelationship LIN with sign +1, spacing, source distances and the
//     private camera block), written atomically.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xraylift/core/camera.hpp"

namespace xraylift::data {

// The private block of xraylift radiographs: creator (0029,0010) = kRadiographPrivateCreator, then
//   (0029,1000) FD[4]  fx, fy, cx, cy (pixels; core camera convention, docs/ARCHITECTURE.md "Conventions")
//   (0029,1001) FD[12] world2cam: R row-major (9 values), then t (3 values, mm)
//   (0029,1002) FD     I0: the stored value of an unattenuated ray (L = 0)
//   (0029,1003) LO     the camera's name
inline constexpr const char* kRadiographPrivateCreator = "XRAYLIFT 1";

struct Radiograph {
  std::string file;
  int width = 0, height = 0;
  int bits_stored = 0;
  std::string photometric;             // MONOCHROME1 | MONOCHROME2
  std::string intensity_relationship;  // PixelIntensityRelationship (0028,1040): LIN, LOG, OTHER or empty
  int intensity_sign = 0;              // PixelIntensityRelationshipSign (0028,1041): +1, -1, 0 when absent
  bool inverted = false;               // the stored values were inverted (see `values`)
  double rescale_slope = 1, rescale_intercept = 0;
  std::string modality, sop_class_uid;
  // Per pixel (row-major, height x width) a value proportional to the X-ray intensity reaching the detector:
  // stored values, inverted (v' = 2^BitsStored - 1 - v) when PixelIntensityRelationshipSign is -1, or, without that
  // attribute, when the image is MONOCHROME1; then RescaleSlope * v' + RescaleIntercept.
  std::vector<double> values;
  std::optional<double> row_spacing_mm, column_spacing_mm;  // ImagerPixelSpacing (0018,1164), else PixelSpacing
  std::string spacing_tag;                                  // the tag the spacing came from, or empty
  std::optional<double> source_detector_mm;                 // DistanceSourceToDetector (0018,1110)
  std::optional<double> source_patient_mm;                  // DistanceSourceToPatient (0018,1111)
  std::optional<double> window_center, window_width;        // recorded (display only, never applied)
  std::string patient_orientation;                          // PatientOrientation (0020,0020), recorded
  std::optional<double> i0;                                 // private (0029,1002)
  std::optional<core::Camera> camera;                       // private (0029,1000..1003)
};

// Throws InputError naming the file and the attribute for: a file DCMTK cannot read, no PixelData, several
// frames or samples, BitsAllocated other than 16 (8-bit radiographs are refused: they cannot hold a line integral's
// range), PixelIntensityRelationship LOG (already log-transformed values, not intensities), compressed pixels no
// codec decodes, a private camera block that is incomplete or not a valid camera of the image's size.
Radiograph read_radiograph_dicom(const std::filesystem::path& file);

struct RadiographWriteOptions {
  std::string patient_id = "XRAYLIFT-DRR";
  std::string study_description = "xraylift DRR";
  std::string uid_seed;  // UIDs derive from it (derived_uid), so rewriting gives the same files
  int instance = 1;      // InstanceNumber (the view index + 1)
  double i0 = 65535;     // the stored value of L = 0, written in the private block
  double sdd_mm = 0;     // > 0: DistanceSourceToDetector, and Imager/PixelSpacing = sdd / fx (rows: sdd / fy)
};

// Writes `stored` (height x width of `camera`, row-major) with `camera` in the private block. Atomic (temporary
// file + rename). Throws InputError naming the file when the pixel count does not match the camera.
void write_radiograph_dicom(const std::filesystem::path& file, const std::vector<std::uint16_t>& stored,
                            const core::Camera& camera, const RadiographWriteOptions& options = {});

// Whether a file starts like DICOM Part 10 ("DICM" at byte 128).
bool looks_like_dicom(const std::filesystem::path& file);

}  // namespace xraylift::data
