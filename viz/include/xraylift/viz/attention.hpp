#pragma once
// Attention (infection) spheres from a 2D heat map (the seed viewer's approach, for Grad-CAM-like maps):
// local maxima of the map above a threshold are back-projected along their camera ray into the lung mask; each
// becomes a sphere at the middle of the ray's longest run inside the lungs, sized by the peak's intensity.
#include <opencv2/core.hpp>

#include "xraylift/core/camera.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/viz/scene.hpp"

namespace xraylift::viz {

struct AttentionOptions {
  double threshold = 0.5;  // of the map's maximum
  int max_spots = 10;
  int min_separation_px = 15;  // peaks closer than this (in map pixels) merge into the stronger
  double min_diameter_mm = 6, max_diameter_mm = 30;
  double step_mm = 1.0;  // ray-march step through the mask
};

// heat: single-channel map covering the camera's whole image (any resolution; it is scaled to the camera's
// image); lungs: nonzero = lung (a LungSegmentation's labels work). Peaks whose ray misses the lungs are dropped.
std::vector<AttentionSpot> attention_spots(const cv::Mat& heat, const core::Camera& camera, const core::VolumeU8& lungs,
                                           const AttentionOptions& options = {});

}  // namespace xraylift::viz
