#include "xraylift/viz/ar.hpp"

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

#include <Eigen/Geometry>
#include <cmath>

#include "aruco_compat.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/viz/axes.hpp"

namespace xraylift::viz {

int aruco_dictionary_id(const std::string& name) {
  static const std::pair<const char*, int> kNames[] = {
      {"DICT_4X4_50", cv::aruco::DICT_4X4_50},   {"DICT_4X4_100", cv::aruco::DICT_4X4_100},
      {"DICT_4X4_250", cv::aruco::DICT_4X4_250}, {"DICT_4X4_1000", cv::aruco::DICT_4X4_1000},
      {"DICT_5X5_50", cv::aruco::DICT_5X5_50},   {"DICT_5X5_100", cv::aruco::DICT_5X5_100},
      {"DICT_5X5_250", cv::aruco::DICT_5X5_250}, {"DICT_5X5_1000", cv::aruco::DICT_5X5_1000},
      {"DICT_6X6_50", cv::aruco::DICT_6X6_50},   {"DICT_6X6_100", cv::aruco::DICT_6X6_100},
      {"DICT_6X6_250", cv::aruco::DICT_6X6_250}, {"DICT_6X6_1000", cv::aruco::DICT_6X6_1000},
      {"DICT_7X7_50", cv::aruco::DICT_7X7_50},   {"DICT_7X7_100", cv::aruco::DICT_7X7_100},
      {"DICT_7X7_250", cv::aruco::DICT_7X7_250}, {"DICT_7X7_1000", cv::aruco::DICT_7X7_1000}};
  for (const auto& [n, id] : kNames)
    if (name == n) return id;
  throw core::ConfigError(
      core::cat("ArUco dictionary '", name, "': expected DICT_{4X4,5X5,6X6,7X7}_{50,100,250,1000}"));
}

int marker_bits(const std::string& dictionary) {
  aruco_dictionary_id(dictionary);
  return dictionary[5] - '0';
}

int marker_count(const std::string& dictionary) {
  aruco_dictionary_id(dictionary);  // a known name ends in its marker count
  return std::stoi(dictionary.substr(dictionary.rfind('_') + 1));
}

namespace {

int dictionary_size(const std::string& name) { return marker_count(name); }

void check_spec(const MarkerSpec& s) {
  aruco_dictionary_id(s.dictionary);
  XL_CHECK(s.id >= -1 && s.id < dictionary_size(s.dictionary), "marker id ", s.id, ": expected -1 (any) or 0 .. ",
           dictionary_size(s.dictionary) - 1, " for ", s.dictionary);
  XL_CHECK(std::isfinite(s.size_mm) && s.size_mm > 0, "marker size ", s.size_mm, " mm: expected > 0");
}

Eigen::Quaterniond rvec_to_quat(const cv::Vec3d& r) {
  const Eigen::Vector3d v(r[0], r[1], r[2]);
  const double a = v.norm();
  return a < 1e-12 ? Eigen::Quaterniond::Identity() : Eigen::Quaterniond(Eigen::AngleAxisd(a, v / a));
}

cv::Vec3d quat_to_rvec(const Eigen::Quaterniond& q) {
  const Eigen::AngleAxisd aa(q.normalized());
  const Eigen::Vector3d v = aa.axis() * aa.angle();
  return {v.x(), v.y(), v.z()};
}

}  // namespace

CameraCalibration CameraCalibration::guess(cv::Size size) {
  XL_CHECK(size.width > 0 && size.height > 0, "camera image size ", size.width, "x", size.height, ": expected > 0");
  CameraCalibration c;
  const double f = 0.5 * size.width / std::tan(30.0 * M_PI / 180);
  c.K = cv::Matx33d(f, 0, 0.5 * (size.width - 1), 0, f, 0.5 * (size.height - 1), 0, 0, 1);
  c.image_size = size;
  return c;
}

CameraCalibration CameraCalibration::scaled_to(cv::Size size) const {
  if (size == image_size || image_size.width <= 0) return *this;
  CameraCalibration c = *this;
  const double sx = double(size.width) / image_size.width, sy = double(size.height) / image_size.height;
  c.K(0, 0) *= sx, c.K(0, 2) = (K(0, 2) + 0.5) * sx - 0.5;
  c.K(1, 1) *= sy, c.K(1, 2) = (K(1, 2) + 0.5) * sy - 0.5;
  c.image_size = size;
  return c;
}

void save_calibration(const std::filesystem::path& path, const CameraCalibration& c) {
  const auto tmp = core::temp_path_for(path);
  {
    cv::FileStorage fs(tmp.string() + ".yaml", cv::FileStorage::WRITE);
    XL_CHECK(fs.isOpened(), "cannot write calibration ", path.string());
    fs << "format"
       << "xraylift.camera"
       << "image_width" << c.image_size.width << "image_height" << c.image_size.height << "camera_matrix"
       << cv::Mat(c.K) << "distortion_coefficients" << c.dist << "rms_reprojection_px" << c.rms_px;
  }
  core::commit_temp_file(tmp.string() + ".yaml", path);
}

CameraCalibration load_calibration(const std::filesystem::path& path) {
  XL_CHECK(std::filesystem::exists(path), "calibration file ", path.string(), " does not exist");
  cv::FileStorage fs;
  try {
    fs.open(path.string(), cv::FileStorage::READ);
  } catch (const cv::Exception& e) {
    throw core::InputError(core::cat("calibration ", path.string(), ": ", e.what()));
  }
  XL_CHECK(fs.isOpened(), "calibration ", path.string(), ": cannot open as OpenCV YAML/XML");
  CameraCalibration c;
  cv::Mat K;
  fs["camera_matrix"] >> K;
  fs["distortion_coefficients"] >> c.dist;
  fs["image_width"] >> c.image_size.width;
  fs["image_height"] >> c.image_size.height;
  fs["rms_reprojection_px"] >> c.rms_px;
  XL_CHECK(K.rows == 3 && K.cols == 3, "calibration ", path.string(), ": camera_matrix missing or not 3x3");
  K.convertTo(K, CV_64F);
  c.K = cv::Matx33d(K);
  XL_CHECK(c.K(0, 0) > 0 && c.K(1, 1) > 0, "calibration ", path.string(), ": focal lengths must be > 0");
  XL_CHECK(c.image_size.width > 0 && c.image_size.height > 0, "calibration ", path.string(),
           ": image_width/image_height missing");
  if (c.dist.empty()) c.dist = cv::Mat::zeros(1, 5, CV_64F);
  c.dist.convertTo(c.dist, CV_64F);
  return c;
}

struct MarkerTracker::Impl {
#if XRAYLIFT_ARUCO_OBJDETECT
  cv::aruco::ArucoDetector detector;
  explicit Impl(int dict)
      : detector(cv::aruco::getPredefinedDictionary(dict), [] {
          cv::aruco::DetectorParameters p;
          p.cornerRefinementMethod = cv::aruco::CORNER_REFINE_SUBPIX;
          return p;
        }()) {}
  void detect(const cv::Mat& gray, std::vector<std::vector<cv::Point2f>>& corners, std::vector<int>& ids) const {
    detector.detectMarkers(gray, corners, ids);
  }
#else
  cv::Ptr<cv::aruco::Dictionary> dictionary;
  cv::Ptr<cv::aruco::DetectorParameters> params;
  explicit Impl(int dict)
      : dictionary(cv::aruco::getPredefinedDictionary(dict)), params(cv::aruco::DetectorParameters::create()) {
    params->cornerRefinementMethod = cv::aruco::CORNER_REFINE_SUBPIX;
  }
  void detect(const cv::Mat& gray, std::vector<std::vector<cv::Point2f>>& corners, std::vector<int>& ids) const {
    cv::aruco::detectMarkers(gray, dictionary, corners, ids, params);
  }
#endif
};

MarkerTracker::MarkerTracker(const MarkerSpec& spec, const CameraCalibration& calibration)
    : spec_(spec), calibration_(calibration), impl_(nullptr) {
  check_spec(spec);
  impl_ = new Impl(aruco_dictionary_id(spec.dictionary));
}

MarkerTracker::~MarkerTracker() { delete impl_; }

MarkerPose MarkerTracker::detect(const cv::Mat& frame) const {
  XL_CHECK(!frame.empty(), "marker detection: empty frame");
  cv::Mat gray;
  if (frame.channels() == 3)
    cv::cvtColor(frame, gray, cv::COLOR_BGR2GRAY);
  else
    gray = frame;
  std::vector<std::vector<cv::Point2f>> corners;
  std::vector<int> ids;
  impl_->detect(gray, corners, ids);
  MarkerPose pose;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (spec_.id >= 0 && ids[i] != spec_.id) continue;
    const CameraCalibration cal = calibration_.scaled_to(frame.size());
    const double h = 0.5 * spec_.size_mm;
    // Corner order of ArUco and of SOLVEPNP_IPPE_SQUARE: top-left, top-right, bottom-right, bottom-left.
    const std::vector<cv::Point3f> object = {
        {float(-h), float(h), 0}, {float(h), float(h), 0}, {float(h), float(-h), 0}, {float(-h), float(-h), 0}};
    if (!cv::solvePnP(object, corners[i], cal.K, cal.dist, pose.rvec, pose.tvec, false, cv::SOLVEPNP_IPPE_SQUARE))
      continue;
    pose.found = true;
    pose.id = ids[i];
    pose.corners = corners[i];
    break;
  }
  return pose;
}

PoseSmoother::PoseSmoother(double weight, int hold_frames, double jump_mm, double jump_deg)
    : weight_(weight), jump_mm_(jump_mm), jump_deg_(jump_deg), hold_frames_(hold_frames) {
  XL_CHECK(weight > 0 && weight <= 1, "pose smoothing weight ", weight, ": expected (0, 1]");
  XL_CHECK(hold_frames >= 0, "pose hold frames ", hold_frames, ": expected >= 0");
}

MarkerPose PoseSmoother::update(const MarkerPose& m) {
  if (!m.found) {
    if (have_ && ++missed_ <= hold_frames_) return state_;
    have_ = false;
    return m;
  }
  missed_ = 0;
  if (!have_) {
    state_ = m;
    have_ = true;
    return state_;
  }
  const Eigen::Quaterniond q0 = rvec_to_quat(state_.rvec), q1 = rvec_to_quat(m.rvec);
  const double angle_deg = q0.angularDistance(q1) * 180 / M_PI;
  const double move_mm = cv::norm(m.tvec - state_.tvec);
  if (angle_deg > jump_deg_ || move_mm > jump_mm_) {
    state_ = m;
    return state_;
  }
  state_.rvec = quat_to_rvec(q0.slerp(weight_, q1));
  state_.tvec = (1 - weight_) * state_.tvec + weight_ * m.tvec;
  state_.corners = m.corners;
  state_.id = m.id;
  state_.found = true;
  return state_;
}

ViewTransform marker_view(const Scene& scene, const MarkerSpec& marker, const ArPlacement& placement,
                          const MarkerPose& pose, const CameraCalibration& calibration) {
  const Bounds b = scene.bounds();
  XL_CHECK(b.valid(), "marker_view: empty scene");
  XL_CHECK(placement.scale >= 0 && std::isfinite(placement.scale), "AR scale ", placement.scale, ": expected >= 0");
  const double scale = placement.scale > 0 ? placement.scale : 2.0 * marker.size_mm / (b.hi - b.lo).maxCoeff();
  const Eigen::Vector3d anchor(0.5 * (b.lo.x() + b.hi.x()), b.hi.y(), 0.5 * (b.lo.z() + b.hi.z()));
  Eigen::Matrix3d to_marker;  // LPS -> marker axes: the glTF rotation of axes.hpp
  for (int a = 0; a < 3; ++a) to_marker.col(a) = lps_dir_to_gltf(Eigen::Vector3f::Unit(a)).cast<double>();
  cv::Matx33d Rcv;
  cv::Rodrigues(pose.rvec, Rcv);
  Eigen::Matrix3d R;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) R(r, c) = Rcv(r, c);
  const Eigen::Vector3d t(pose.tvec[0], pose.tvec[1], pose.tvec[2]);
  ViewTransform v;
  v.A = scale * R * to_marker;
  v.t = t - v.A * anchor;
  v.K = calibration.K;
  v.dist = calibration.dist;
  return v;
}

}  // namespace xraylift::viz
