#pragma once
// Radiographs that xraylift did not render -> a view set (`xraylift views import`, docs/drr.md "Importing
// radiographs"). Each image (16-bit PNG/TIFF through OpenCV, or DICOM DX/CR/RF/SC through data/radiograph.hpp)
// becomes the line integrals of one view by one rule:
//   I   = the pixel's intensity: PNG/TIFF values as stored; DICOM values inverted when PixelIntensityRelationshipSign
//         is -1 (or, without it, the image is MONOCHROME1), then RescaleSlope/Intercept applied;
//   I0  = the unattenuated intensity, from (first that applies) the flat-field value given, the DICOM private I0 of
//         `render --dicom`, or the air level: the `air_percentile` (99.5) percentile of the image's values;
//   L   = clamp(-ln(max(I, 0.5) / I0), 0, max_line_integral)   (0.5: half a count, so I = 0 stays finite).
// Cameras come from a rig (a config's rig section or per-view cameras from an xraylift.views file), else from
// each DICOM file's xraylift camera block. The view set (viewNN.npy / .png / _overlay.png, infos.json with the rule,
// I0 and source file per view under "render.import") is written into a temporary folder renamed into place.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xraylift/core/rig.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/drr/view_output.hpp"

namespace xraylift::drr {

struct IntensityRule {
  std::optional<double> flat_field;  // I0 for every view (> 0)
  double air_percentile = 99.5;      // I0 from the image when neither a flat field nor a DICOM I0 is known
  double max_line_integral = 12.0;   // L is clipped to [0, this]
  void validate() const;             // ConfigError naming the option
};

// One radiograph as read: intensities (row-major) and what the file says about its geometry.
struct RadiographImage {
  std::string file;
  int width = 0, height = 0;
  std::vector<double> intensity;
  std::optional<double> file_i0;                         // DICOM private I0
  std::optional<core::Camera> camera;                    // DICOM private camera
  std::optional<double> column_spacing_mm;               // DICOM spacing (PNG/TIFF have none)
  std::string kind;                                      // "png", "tiff" or "dicom"
  nlohmann::json attributes = nlohmann::json::object();  // recorded in infos.json (photometric, window, ...)
};

// Reads one file by its content (DICOM Part 10) or extension (.png, .tif, .tiff). InputError (exit 3) naming
// the file for 8-bit or colour PNG/TIFF, unreadable files and the DICOM errors of data::read_radiograph_dicom.
RadiographImage read_radiograph(const std::filesystem::path& file);

// The files of the inputs in order: a file stays, a folder gives its .dcm/.png/.tif/.tiff files (and files
// without extension that look like DICOM) sorted by name. InputError naming an input that does not exist or
// holds no image.
std::vector<std::filesystem::path> radiograph_files(const std::vector<std::filesystem::path>& inputs);

// The I0 of one image by the rule and where it came from ("flat-field", "dicom", "air p99.5").
std::pair<double, std::string> intensity_i0(const RadiographImage& image, const IntensityRule& rule);
// L per pixel by the rule, for a given I0.
std::vector<float> line_integrals(const std::vector<double>& intensity, double i0, const IntensityRule& rule);

struct ImportOptions {
  IntensityRule rule;
  std::optional<core::Rig> rig;  // one camera per image, in order; else each DICOM's own camera
  std::string rig_origin;        // where the rig came from (for messages)
  std::string case_id;           // empty: the output folder's name
  ViewOutputOptions output;      // png_l_max, overlay
};

struct ImportResult {
  core::ViewSet views;
  std::vector<double> i0;
  std::vector<std::string> i0_source;
};

// Imports the images into `out` (replaced whole, core::write_folder_atomic). Refuses (InputError, exit 3) images of
// another size than the first, a DICOM without spacing when no rig is given, an image without a camera when no rig
// is given; (ConfigError, exit 2) a rig whose view count differs from the image count or whose camera size differs
// from its image.
ImportResult import_views(const std::vector<std::filesystem::path>& files, const std::filesystem::path& out,
                          const ImportOptions& options);

}  // namespace xraylift::drr
