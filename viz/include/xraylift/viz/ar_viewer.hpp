#pragma once
// The AR viewer loop's pieces: frame sources (camera index, video file, image folder, or synthesized demo
// frames of a moving marker), the per-frame overlay (detect -> smooth -> render -> HUD) and its key bindings.
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "xraylift/viz/ar.hpp"
#include "xraylift/viz/render.hpp"

namespace xraylift::viz {

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual bool next(cv::Mat& frame) = 0;  // false at the end
  virtual std::string describe() const = 0;
};
// "0", "1", ...: a camera device; an existing folder: its images in name order; otherwise a video file.
std::unique_ptr<FrameSource> open_frame_source(const std::string& input);
// `count` synthesized frames (size) of `marker` seen by `calibration`'s camera, the marker slowly turning.
std::unique_ptr<FrameSource> demo_frame_source(const MarkerSpec& marker, const CameraCalibration& calibration,
                                               int count);

struct ArViewOptions {
  RenderOptions render{};
  ArPlacement placement{};
  double smoothing = 0.5;  // PoseSmoother weight (1 = off)
  bool hud = true;         // mode, opacity and fps text, the marker outline
};

class ArViewer {
 public:
  ArViewer(const Scene& scene, const MarkerSpec& marker, const CameraCalibration& calibration,
           const ArViewOptions& options);
  // Draws the overlay on a copy of `frame`; returns it. `fps` is shown in the HUD when > 0.
  cv::Mat process(const cv::Mat& frame, double fps = 0);
  // Keys: m cycles display modes, + / - change the lung opacity, s toggles smoothing; returns false for q / Esc.
  bool handle_key(int key);
  const ArViewOptions& options() const { return options_; }
  const MarkerPose& last_pose() const { return last_; }

 private:
  const Scene& scene_;
  MarkerSpec marker_;
  CameraCalibration calibration_;
  ArViewOptions options_;
  MarkerTracker tracker_;
  PoseSmoother smoother_;
  SceneRenderer renderer_;
  MarkerPose last_;
};

}  // namespace xraylift::viz
