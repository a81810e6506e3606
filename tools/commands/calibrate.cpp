// `xraylift calibrate`: camera intrinsics from chessboard photos (a folder of images) for `view-ar`.
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/viz/ar.hpp"

namespace fs = std::filesystem;
using namespace xraylift;

namespace {

struct Options {
  std::string images;
  std::string board = "9x6";
  double square_mm = 25;
  std::string out = "camera.yaml";
};

tools::Runner setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--images", o->images, "Folder of chessboard photos (png/jpg)")->required();
  app.add_option("--board", o->board, "Inner corners COLUMNSxROWS")->capture_default_str();
  app.add_option("--square-mm", o->square_mm, "Chessboard square side in mm")->capture_default_str();
  app.add_option("-o,--out", o->out, "Calibration file (OpenCV YAML)")->capture_default_str();
  return [o] {
    int cols = 0, rows = 0;
    char x = 0;
    if (std::sscanf(o->board.c_str(), "%d%c%d", &cols, &x, &rows) != 3 || x != 'x' || cols < 2 || rows < 2)
      throw core::ConfigError(core::cat("--board '", o->board, "': expected COLUMNSxROWS inner corners, e.g. 9x6"));
    XL_CHECK(fs::is_directory(o->images), "--images ", o->images, ": not a folder");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(o->images)) {
      std::string ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<cv::Mat> images;
    for (const auto& f : files) {
      cv::Mat m = cv::imread(f.string(), cv::IMREAD_COLOR);
      XL_CHECK(!m.empty(), "calibration image ", f.string(), ": cannot read");
      images.push_back(m);
    }
    int used = 0;
    const viz::CameraCalibration c = viz::calibrate_chessboard(images, {cols, rows}, o->square_mm, &used);
    viz::save_calibration(o->out, c);
    core::log::info("board found in ", used, " of ", images.size(), " images; fx ", c.K(0, 0), " fy ", c.K(1, 1),
                    " cx ", c.K(0, 2), " cy ", c.K(1, 2), "; RMS reprojection ", c.rms_px, " px");
    core::log::info("wrote ", o->out);
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("calibrate", "Camera calibration from chessboard images (for view-ar)", setup);
