#include "xraylift/viz/turntable.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdio>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::viz {

cv::Mat render_view(const SceneRenderer& renderer, double azimuth_deg, cv::Size size, const RenderOptions& options,
                    double elevation_deg) {
  cv::Mat img(size, CV_8UC3);
  for (int r = 0; r < size.height; ++r) img.row(r).setTo(cv::Scalar(36 + 20.0 * r / size.height, 30, 27));
  renderer.render(img, orbit_view(renderer.scene(), azimuth_deg, size, elevation_deg), options);
  return img;
}

std::vector<cv::Mat> render_turntable(const Scene& scene, int frames, cv::Size size, const RenderOptions& options,
                                      double elevation_deg) {
  XL_CHECK(frames >= 1 && frames <= 3600, "turntable frames ", frames, ": expected 1 .. 3600");
  XL_CHECK(size.width >= 16 && size.height >= 16 && size.width <= 8192 && size.height <= 8192, "turntable size ",
           size.width, "x", size.height, ": expected 16 .. 8192 per side");
  const SceneRenderer renderer(scene);
  std::vector<cv::Mat> out;
  for (int i = 0; i < frames; ++i)
    out.push_back(render_view(renderer, 360.0 * i / frames, size, options, elevation_deg));
  return out;
}

std::vector<std::filesystem::path> write_frames(const std::filesystem::path& out, const std::vector<cv::Mat>& frames,
                                                double fps) {
  XL_CHECK(!frames.empty(), "write_frames ", out.string(), ": no frames");
  const std::string ext = out.extension().string();
  if (ext == ".mp4" || ext == ".avi") {
    const auto tmp = core::temp_path_for(out).string() + ext;
    if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
    const int fourcc =
        ext == ".mp4" ? cv::VideoWriter::fourcc('m', 'p', '4', 'v') : cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
    cv::VideoWriter w(tmp, fourcc, fps, frames[0].size());
    XL_CHECK(w.isOpened(), "cannot open a video writer for ", out.string(),
             " (this OpenCV build lacks the codec; write PNG frames to a folder instead)");
    for (const auto& f : frames) w.write(f);
    w.release();
    core::commit_temp_file(tmp, out);
    return {out};
  }
  std::filesystem::create_directories(out);
  std::vector<std::filesystem::path> written;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%04zu.png", i);
    std::vector<uchar> png;
    XL_CHECK(cv::imencode(".png", frames[i], png), "cannot encode frame ", i, " as PNG");
    core::write_file_atomic(out / name, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
    written.push_back(out / name);
  }
  return written;
}

}  // namespace xraylift::viz
