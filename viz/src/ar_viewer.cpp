#include "xraylift/viz/ar_viewer.hpp"

#include <opencv2/calib3d.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"

namespace fs = std::filesystem;

namespace xraylift::viz {
namespace {

class CaptureSource : public FrameSource {
 public:
  CaptureSource(cv::VideoCapture cap, std::string what) : cap_(std::move(cap)), what_(std::move(what)) {}
  bool next(cv::Mat& frame) override { return cap_.read(frame) && !frame.empty(); }
  std::string describe() const override { return what_; }

 private:
  cv::VideoCapture cap_;
  std::string what_;
};

class FolderSource : public FrameSource {
 public:
  explicit FolderSource(const fs::path& dir) : dir_(dir) {
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp") files_.push_back(e.path());
    }
    std::sort(files_.begin(), files_.end());
    XL_CHECK(!files_.empty(), "frame folder ", dir.string(), ": no .png/.jpg/.bmp images");
  }
  bool next(cv::Mat& frame) override {
    if (at_ >= files_.size()) return false;
    frame = cv::imread(files_[at_].string(), cv::IMREAD_COLOR);
    XL_CHECK(!frame.empty(), "frame ", files_[at_].string(), ": cannot read");
    ++at_;
    return true;
  }
  std::string describe() const override { return core::cat("folder ", dir_.string(), " (", files_.size(), " images)"); }

 private:
  fs::path dir_;
  std::vector<fs::path> files_;
  std::size_t at_ = 0;
};

class DemoSource : public FrameSource {
 public:
  DemoSource(const MarkerSpec& m, const CameraCalibration& c, int count) : marker_(m), cal_(c), count_(count) {
    XL_CHECK(count >= 1, "demo frames ", count, ": expected >= 1");
    MarkerSpec spec = m;
    spec.id = std::max(0, m.id);
    const int cell = 32;
    pattern_ = marker_image(spec, cell, 2 * cell);
    mm_per_px_ = m.size_mm / ((marker_bits(m.dictionary) + 2) * cell);
    background_ = cv::Mat(c.image_size, CV_8UC3);
    for (int r = 0; r < background_.rows; ++r)
      for (int col = 0; col < background_.cols; ++col)
        background_.at<cv::Vec3b>(r, col) = cv::Vec3b(uchar(95 + 25 * std::sin(col * 0.013) + 10 * std::cos(r * 0.05)),
                                                      uchar(105 + 20 * std::cos(r * 0.021)), uchar(115));
  }
  bool next(cv::Mat& frame) override {
    if (i_ >= count_) return false;
    const double t = count_ > 1 ? double(i_) / (count_ - 1) : 0;
    // The marker on a table seen from ~45 cm, slowly turning and tilting.
    cv::Matx33d T, F;
    cv::Rodrigues(cv::Vec3d(0.55 + 0.1 * std::sin(6.28 * t), 0.15 * std::cos(6.28 * t), -0.6 + 1.2 * t), T);
    cv::Rodrigues(cv::Vec3d(M_PI, 0, 0), F);
    cv::Vec3d r;
    cv::Rodrigues(F * T, r);
    frame = background_.clone();
    draw_planar_view(frame, pattern_, mm_per_px_, cal_.K, r, {10 * std::sin(6.28 * t), 15, 450});
    ++i_;
    return true;
  }
  std::string describe() const override { return core::cat("synthesized demo frames (", count_, ")"); }

 private:
  MarkerSpec marker_;
  CameraCalibration cal_;
  int count_, i_ = 0;
  cv::Mat pattern_, background_;
  double mm_per_px_ = 1;
};

}  // namespace

std::unique_ptr<FrameSource> open_frame_source(const std::string& input) {
  XL_CHECK(!input.empty(), "AR input: empty (expected a camera index, a video file or an image folder)");
  if (std::all_of(input.begin(), input.end(), ::isdigit)) {
    cv::VideoCapture cap(std::stoi(input));
    XL_CHECK(cap.isOpened(), "camera ", input, ": cannot open (no such device, or no permission)");
    cap.set(cv::CAP_PROP_FRAME_WIDTH, 1280);
    cap.set(cv::CAP_PROP_FRAME_HEIGHT, 720);
    return std::make_unique<CaptureSource>(std::move(cap), "camera " + input);
  }
  XL_CHECK(fs::exists(input), "AR input ", input, " does not exist");
  if (fs::is_directory(input)) return std::make_unique<FolderSource>(input);
  cv::VideoCapture cap(input);
  XL_CHECK(cap.isOpened(), "video ", input, ": cannot open (unsupported container or codec)");
  return std::make_unique<CaptureSource>(std::move(cap), "video " + input);
}

std::unique_ptr<FrameSource> demo_frame_source(const MarkerSpec& m, const CameraCalibration& c, int count) {
  return std::make_unique<DemoSource>(m, c, count);
}

ArViewer::ArViewer(const Scene& scene, const MarkerSpec& marker, const CameraCalibration& calibration,
                   const ArViewOptions& options)
    : scene_(scene),
      marker_(marker),
      calibration_(calibration),
      options_(options),
      tracker_(marker, calibration),
      smoother_(options.smoothing),
      renderer_(scene) {}

cv::Mat ArViewer::process(const cv::Mat& frame, double fps) {
  XL_CHECK(!frame.empty() && frame.type() == CV_8UC3, "AR frame: expected a non-empty 8-bit BGR image");
  cv::Mat out = frame.clone();
  const CameraCalibration cal = calibration_.scaled_to(frame.size());
  last_ = smoother_.update(tracker_.detect(frame));
  if (last_.found) renderer_.render(out, marker_view(scene_, marker_, options_.placement, last_, cal), options_.render);
  if (options_.hud) {
    if (last_.found && last_.corners.size() == 4) {
      std::vector<cv::Point> quad;
      for (const auto& p : last_.corners) quad.emplace_back(cvRound(p.x), cvRound(p.y));
      cv::polylines(out, quad, true, cv::Scalar(0, 255, 255), 1, cv::LINE_AA);
    }
    const std::string text = core::cat("mode ", to_string(options_.render.mode), "  lung opacity ",
                                       int(std::lround(100 * std::max(0.0, options_.render.lung_opacity))), "%",
                                       last_.found ? "" : "  (no marker)",
                                       fps > 0 ? core::cat("  ", int(std::lround(fps)), " fps") : std::string());
    cv::putText(out, text, {12, 28}, cv::FONT_HERSHEY_SIMPLEX, 0.7, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
    cv::putText(out, text, {12, 28}, cv::FONT_HERSHEY_SIMPLEX, 0.7, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  }
  return out;
}

bool ArViewer::handle_key(int key) {
  auto& r = options_.render;
  switch (key & 0xff) {
    case 'q':
    case 27:
      return false;
    case 'm':
      r.mode = r.mode == DisplayMode::kBoth    ? DisplayMode::kLungs
               : r.mode == DisplayMode::kLungs ? DisplayMode::kNodules
                                               : DisplayMode::kBoth;
      break;
    case '+':
    case '=':
      r.lung_opacity = std::min(1.0, std::max(0.0, r.lung_opacity) + 0.1);
      break;
    case '-':
      r.lung_opacity = std::max(0.0, r.lung_opacity - 0.1);
      break;
    case 's':
      options_.smoothing = options_.smoothing < 1 ? 1.0 : 0.5;
      smoother_ = PoseSmoother(options_.smoothing);
      break;
    default:
      break;
  }
  return true;
}

}  // namespace xraylift::viz
