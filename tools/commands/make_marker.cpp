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

struct Options {
  viz::MarkerSpec spec;
  std::string out = "marker.pdf";
  double dpi = 300;
};

tools::Runner setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--id", o->spec.id, "Marker id")->capture_default_str();
  app.add_option("--dictionary", o->spec.dictionary, "ArUco dictionary")->capture_default_str();
  app.add_option("--size-mm", o->spec.size_mm, "Side of the black square in mm")->capture_default_str();
  app.add_option("--dpi", o->dpi, "PNG resolution (dots per inch)")->capture_default_str();
  app.add_option("-o,--out", o->out, "Output: .pdf (vector, exact size) or .png")->capture_default_str();
  return [o] {
    XL_USAGE_CHECK(o->spec.id >= 0, "--id ", o->spec.id, ": expected >= 0");
    const std::string ext = std::filesystem::path(o->out).extension().string();
    if (ext == ".pdf") {
      viz::write_marker_pdf(o->out, o->spec);
    } else if (ext == ".png") {
      XL_USAGE_CHECK(o->dpi >= 50 && o->dpi <= 2400, "--dpi ", o->dpi, ": expected 50 .. 2400");
      const int cells = viz::marker_bits(o->spec.dictionary) + 2;
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
