#pragma once
// AR marker viewer building blocks (docs/viz.md):
//   - ArUco marker detection (OpenCV 4.6 contrib API or the 4.7+ objdetect API, chosen at compile time) and the
//     marker pose by solvePnP(SOLVEPNP_IPPE_SQUARE). Marker frame (OpenCV's): origin at the marker centre,
//     +X to the marker's right, +Y to its top, +Z out of the marker toward the viewer; units mm.
//   - pose smoothing against jitter (exponential, translation lerp + rotation slerp, holds the last pose a few
//     frames when the marker is lost);
//   - scene placement: the patient lies on the marker, back down: marker +X = patient's left, +Y = superior,
//     +Z = anterior (the glTF axes of axes.hpp, scaled), the scene centred on the marker, its posterior-most
//     point on the marker plane;
//   - marker images (PNG) and a printable PDF at an exact physical size; planar views for tests.
#include <Eigen/Core>
#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "xraylift/viz/render.hpp"
#include "xraylift/viz/scene.hpp"

namespace xraylift::viz {

struct MarkerSpec {
  std::string dictionary = "DICT_6X6_250";  // seed viewer's dictionary
  int id = 0;                               // the marker to track; -1 = the first one seen
  double size_mm = 80;                      // side of the black square
};
int aruco_dictionary_id(const std::string& name);  // ConfigError for an unknown name
int marker_bits(const std::string& dictionary);    // 4, 5, 6 or 7
int marker_count(const std::string& dictionary);   // markers in the dictionary: ids 0 .. count - 1

struct CameraCalibration {
  cv::Matx33d K = cv::Matx33d::eye();
  cv::Mat dist = cv::Mat::zeros(1, 5, CV_64F);
  cv::Size image_size;
  double rms_px = 0;
  // A guess when no calibration exists: ~60 degree horizontal field of view, no distortion.
  static CameraCalibration guess(cv::Size image_size);
  // Same camera at another resolution (intrinsics scaled).
  CameraCalibration scaled_to(cv::Size size) const;
};
void save_calibration(const std::filesystem::path& path, const CameraCalibration& c);  // OpenCV YAML, atomic
CameraCalibration load_calibration(const std::filesystem::path& path);

struct MarkerPose {
  bool found = false;
  int id = -1;
  cv::Vec3d rvec, tvec;  // marker -> camera (mm)
  std::vector<cv::Point2f> corners;
};

class MarkerTracker {
 public:
  MarkerTracker(const MarkerSpec& spec, const CameraCalibration& calibration);
  ~MarkerTracker();
  MarkerTracker(const MarkerTracker&) = delete;
  MarkerTracker& operator=(const MarkerTracker&) = delete;
  MarkerPose detect(const cv::Mat& frame) const;
  const MarkerSpec& spec() const { return spec_; }

 private:
  struct Impl;
  MarkerSpec spec_;
  CameraCalibration calibration_;
  Impl* impl_;
};

class PoseSmoother {
 public:
  // weight of the new measurement in [0, 1] (1 = no smoothing); poses farther than jump_mm / jump_deg from the
  // smoothed one restart it; a lost marker keeps the last pose for hold_frames frames.
  explicit PoseSmoother(double weight = 0.5, int hold_frames = 5, double jump_mm = 50, double jump_deg = 25);
  MarkerPose update(const MarkerPose& measured);
  void reset() { have_ = false; }

 private:
  double weight_, jump_mm_, jump_deg_;
  int hold_frames_, missed_ = 0;
  bool have_ = false;
  MarkerPose state_;
};

struct ArPlacement {
  double scale = 0;  // marker mm per scene mm; 0 = fit the scene's largest extent to 2 marker sides
};
// World (LPS mm) -> camera view for a marker pose.
ViewTransform marker_view(const Scene& scene, const MarkerSpec& marker, const ArPlacement& placement,
                          const MarkerPose& pose, const CameraCalibration& calibration);

// The marker image (black square with its bits) plus a white quiet zone; side = (bits + 2) * cell_px + 2 * quiet.
cv::Mat marker_image(const MarkerSpec& spec, int cell_px, int quiet_zone_px);
// A one-page PDF (A4) with the marker drawn as vector cells at exactly spec.size_mm, and a caption.
void write_marker_pdf(const std::filesystem::path& path, const MarkerSpec& spec);

// A planar pattern (image, `mm_per_px` physical size, centred on the plane's origin, +Y up) seen by a pinhole
// camera at pose (rvec, tvec: plane -> camera) over `background`: for tests and calibration checks.
void draw_planar_view(cv::Mat& background, const cv::Mat& pattern, double mm_per_px, const cv::Matx33d& K,
                      const cv::Vec3d& rvec, const cv::Vec3d& tvec);

// Chessboard calibration: `images` show a board of inner_corners (columns x rows) with square_mm squares.
// Images where the board is not found are skipped; InputError when fewer than 3 remain.
CameraCalibration calibrate_chessboard(const std::vector<cv::Mat>& images, cv::Size inner_corners, double square_mm,
                                       int* used_images = nullptr);
// A chessboard pattern image (for printing and tests): (inner + 1) squares per side of square_px.
cv::Mat chessboard_image(cv::Size inner_corners, int square_px);

}  // namespace xraylift::viz
