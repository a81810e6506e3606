#include "xraylift/viz/attention.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::viz {

std::vector<AttentionSpot> attention_spots(const cv::Mat& heat_in, const core::Camera& camera,
                                           const core::VolumeU8& lungs, const AttentionOptions& o) {
  XL_CHECK(!heat_in.empty() && heat_in.channels() == 1, "attention map: expected a non-empty single-channel image");
  XL_CHECK(o.threshold > 0 && o.threshold <= 1 && o.max_spots >= 1 && o.min_diameter_mm > 0 &&
               o.max_diameter_mm >= o.min_diameter_mm && o.step_mm > 0,
           "attention options: threshold ", o.threshold, " (0, 1], max_spots ", o.max_spots, " >= 1, diameters ",
           o.min_diameter_mm, " .. ", o.max_diameter_mm, " mm, step ", o.step_mm, " mm > 0");
  lungs.geometry().validate("attention lung mask");
  cv::Mat heat;
  heat_in.convertTo(heat, CV_32F);
  double lo, hi;
  cv::minMaxLoc(heat, &lo, &hi);
  if (!(hi > 0)) return {};
  heat /= hi;
  cv::Mat dilated;
  cv::dilate(heat, dilated, cv::getStructuringElement(cv::MORPH_RECT, {3, 3}));
  struct Peak {
    float value;
    cv::Point p;
  };
  std::vector<Peak> peaks;
  for (int r = 0; r < heat.rows; ++r)
    for (int c = 0; c < heat.cols; ++c) {
      const float v = heat.at<float>(r, c);
      if (v >= o.threshold && v >= dilated.at<float>(r, c)) peaks.push_back({v, {c, r}});
    }
  std::sort(peaks.begin(), peaks.end(), [](const Peak& a, const Peak& b) { return a.value > b.value; });
  std::vector<Peak> kept;
  for (const auto& p : peaks) {
    bool near = false;
    for (const auto& k : kept) near |= cv::norm(k.p - p.p) < o.min_separation_px;
    if (!near) kept.push_back(p);
    if (int(kept.size()) >= o.max_spots) break;
  }
  const double sx = double(camera.width()) / heat.cols, sy = double(camera.height()) / heat.rows;
  const core::Box3D box = lungs.geometry().world_bounds();
  std::vector<AttentionSpot> spots;
  for (const auto& k : kept) {
    // Continuous pixel centre (col + 0.5, row + 0.5) in map pixels, scaled to the camera's image.
    const core::Ray ray = camera.unproject(Eigen::Vector2d((k.p.x + 0.5) * sx, (k.p.y + 0.5) * sy));
    // March from the source across the volume box; keep the longest run inside the mask.
    const double far = (camera.source() - box.center).norm() + box.size.norm();
    double best_len = 0, best_mid = 0, run_start = -1;
    for (double s = 0; s <= far; s += o.step_mm) {
      const Eigen::Vector3d idx = lungs.world_to_index(ray.origin + s * ray.direction);
      const Eigen::Vector3i v = idx.array().round().cast<int>();
      const bool in = lungs.in_bounds(v.x(), v.y(), v.z()) && lungs.at(v.x(), v.y(), v.z()) != 0;
      if (in && run_start < 0) run_start = s;
      if ((!in || s + o.step_mm > far) && run_start >= 0) {
        if (s - run_start > best_len) best_len = s - run_start, best_mid = 0.5 * (s + run_start);
        run_start = -1;
      }
    }
    if (best_len <= 0) continue;
    AttentionSpot spot;
    spot.centre = ray.origin + best_mid * ray.direction;
    spot.intensity = std::clamp(double(k.value), 0.0, 1.0);
    spot.diameter_mm = o.min_diameter_mm + (o.max_diameter_mm - o.min_diameter_mm) * spot.intensity;
    spots.push_back(spot);
  }
  return spots;
}

}  // namespace xraylift::viz
