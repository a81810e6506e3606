#pragma once
// Turntable renders of a scene for reports: the camera orbits the superior axis (orbit_view), one frame per
// 360 / n degrees, rendered by the CPU renderer over a dark background.
#include <filesystem>
#include <opencv2/core.hpp>
#include <vector>

#include "xraylift/viz/render.hpp"

namespace xraylift::viz {

cv::Mat render_view(const SceneRenderer& renderer, double azimuth_deg, cv::Size size, const RenderOptions& options,
                    double elevation_deg = 10);
std::vector<cv::Mat> render_turntable(const Scene& scene, int frames, cv::Size size, const RenderOptions& options,
                                      double elevation_deg = 10);
// `out` ending in .mp4 or .avi: a video at `fps`; otherwise a folder of frame_0000.png, ... (atomic per file).
// Returns the paths written.
std::vector<std::filesystem::path> write_frames(const std::filesystem::path& out, const std::vector<cv::Mat>& frames,
                                                double fps = 20);

}  // namespace xraylift::viz
