// `xraylift make-marker`: the ArUco marker for `view-ar`, as a PNG at a given DPI or a PDF at exact size.
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <filesystem>

#include "../command.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/viz/ar.hpp"

using namespace xraylift;

namespace {

constexpr double kMaxMarkerPixels = 20000;  // a 400 MB 8-bit PNG raster

struct Options {
  viz::MarkerSpec spec;
  std::string out = "marker.pdf";
  double dpi = 300;
};

tools::Runner setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--id", o->spec.id, "Marker id (0 .. the dictionary's count - 1)")
      ->capture_default_str()
      ->check(tools::within(0, 999));
  app.add_option("--dictionary", o->spec.dictionary, "ArUco dictionary")->capture_default_str();
  app.add_option("--size-mm", o->spec.size_mm, "Side of the black square in mm")
      ->capture_default_str()
      ->check(tools::within(5, 1000));
  app.add_option("--dpi", o->dpi, "PNG resolution (dots per inch)")
      ->capture_default_str()
      ->check(tools::within(50, 2400));
  app.add_option("-o,--out", o->out, "Output: .pdf (vector, exact size) or .png")->capture_default_str();
  return [o] {
    const int count = viz::marker_count(o->spec.dictionary);
    XL_USAGE_CHECK(o->spec.id < count, "--id = ", o->spec.id, ", expected 0 .. ", count - 1, " for --dictionary ",
                   o->spec.dictionary);
    const std::string ext = std::filesystem::path(o->out).extension().string();
    if (ext == ".pdf") {
      viz::write_marker_pdf(o->out, o->spec);
    } else if (ext == ".png") {
      const int cells = viz::marker_bits(o->spec.dictionary) + 2;
      // The image, not each option, is what must fit: 1000 mm at 2400 dpi would be a 94488 px square.
      const double side_px = o->spec.size_mm / 25.4 * o->dpi;
      XL_USAGE_CHECK(side_px <= kMaxMarkerPixels, "--size-mm ", o->spec.size_mm, " at --dpi ", o->dpi, " is ",
                     std::lround(side_px), " px across, expected at most ", kMaxMarkerPixels, " px (lower --dpi)");
      const int cell_px = std::max(1, int(std::lround(o->spec.size_mm / 25.4 * o->dpi / cells)));
      const cv::Mat img = viz::marker_image(o->spec, cell_px, cell_px);
      std::vector<uchar> png;
      XL_CHECK(cv::imencode(".png", img, png), "cannot encode the marker PNG");
      core::write_file_atomic(o->out, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
      core::log::info("marker square: ", cells * cell_px, " px = ", cells * cell_px * 25.4 / o->dpi, " mm at ", o->dpi,
                      " dpi");
    } else {
      throw core::InputError(core::cat("make-marker output ", o->out, ": expected a .pdf or .png file"));
    }
    core::log::info("wrote ", o->out, " (", o->spec.dictionary, " id ", o->spec.id, ", ", o->spec.size_mm, " mm)");
    return 0;
  };
}

}  // namespace

XL_REGISTER_COMMAND("make-marker", "Write the AR marker as PNG or PDF at a given size", setup);
