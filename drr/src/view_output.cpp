#include "xraylift/drr/view_output.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/data/radiograph.hpp"

namespace fs = std::filesystem;

namespace xraylift::drr {

namespace {

const cv::Scalar kNoduleColour(0, 0, 255);    // BGR red
const cv::Scalar kIgnoreColour(0, 165, 255);  // BGR orange

void write_png(const fs::path& path, const cv::Mat& image) {
  std::vector<unsigned char> bytes;
  XL_CHECK(cv::imencode(".png", image, bytes), "drr: could not encode '", path.string(), "' as PNG");
  core::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string view_file(int v, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof(name), "view%02d%s", v, suffix);
  return name;
}

// 8-bit display: window from the 1st to the 99.5th percentile of the rays that cross the volume.
cv::Mat display_image(const float* L, int height, int width) {
  std::vector<float> inside;
  for (int n = 0; n < height * width; ++n)
    if (L[n] > 0) inside.push_back(L[n]);
  float lo = 0, hi = 1;
  if (!inside.empty()) {
    auto pick = [&](double q) {
      auto it = inside.begin() + static_cast<std::ptrdiff_t>(q * (inside.size() - 1));
      std::nth_element(inside.begin(), it, inside.end());
      return *it;
    };
    lo = pick(0.01);
    hi = pick(0.995);
    if (!(hi > lo)) hi = lo + 1e-3f;
  }
  cv::Mat gray(height, width, CV_8UC1);
  for (int r = 0; r < height; ++r)
    for (int c = 0; c < width; ++c) {
      const float v = L[r * width + c];
      const float t = v > 0 ? std::clamp((v - lo) / (hi - lo), 0.0f, 1.0f) : 0.0f;
      gray.at<unsigned char>(r, c) = static_cast<unsigned char>(std::lround(255 * t));
    }
  cv::Mat color;
  cv::cvtColor(gray, color, cv::COLOR_GRAY2BGR);
  return color;
}

// A dashed rectangle (ignore regions).
void dashed_rectangle(cv::Mat& image, const core::Box2D& b, const cv::Scalar& color, int thickness) {
  const double dash = std::max(3.0, image.cols / 160.0);
  auto line = [&](cv::Point2d p, cv::Point2d q) {
    const double len = std::hypot(q.x - p.x, q.y - p.y);
    for (double s = 0; s < len; s += 2 * dash) {
      const double e = std::min(len, s + dash);
      cv::line(image, p + (q - p) * (s / std::max(len, 1e-9)), p + (q - p) * (e / std::max(len, 1e-9)), color,
               thickness, cv::LINE_AA);
    }
  };
  line({b.x0, b.y0}, {b.x1, b.y0});
  line({b.x1, b.y0}, {b.x1, b.y1});
  line({b.x1, b.y1}, {b.x0, b.y1});
  line({b.x0, b.y1}, {b.x0, b.y0});
}

void draw_boxes(cv::Mat& image, const std::vector<core::ViewBox2D>& boxes) {
  const double scale = std::max(0.35, image.cols / 1024.0);
  const int thickness = std::max(1, image.cols / 512);
  for (const auto& b : boxes) {
    const auto& box = b.projection.box;
    const cv::Scalar color = b.ignore ? kIgnoreColour : kNoduleColour;
    if (b.ignore)
      dashed_rectangle(image, box, color, thickness);
    else
      cv::rectangle(image, cv::Point2d(box.x0, box.y0), cv::Point2d(box.x1, box.y1), color, thickness, cv::LINE_AA);
    const auto& c = b.projection.center_uv;
    if (c.allFinite())
      cv::drawMarker(image, cv::Point2d(c.x(), c.y()), cv::Scalar(0, 255, 255), cv::MARKER_CROSS,
                     std::max(4, image.cols / 128), thickness);
    cv::putText(image, b.nodule_id, cv::Point2d(box.x0, std::max(10.0, box.y0 - 3)), cv::FONT_HERSHEY_SIMPLEX,
                0.4 * scale, color, 1, cv::LINE_AA);
  }
}

}  // namespace

ViewOutputOptions ViewOutputOptions::from_config(const core::Config& config) {
  ViewOutputOptions o;
  const core::Config drr = config.section("drr");
  o.png_l_max = drr.get<double>("png_l_max", o.png_l_max);
  o.overlay = drr.get<bool>("overlay", o.overlay);
  o.transmission = drr.get<bool>("transmission", o.transmission);
  o.photons = drr.get<double>("photons", o.photons);
  o.noise_seed = drr.get<std::uint64_t>("noise_seed", o.noise_seed);
  o.dicom = drr.get<bool>("dicom", o.dicom);
  if (!(std::isfinite(o.png_l_max) && o.png_l_max > 0))
    throw core::ConfigError(
        core::cat("config key '", drr.full_key("png_l_max"), "' = ", o.png_l_max, ", expected a line integral > 0"));
  if (!(std::isfinite(o.photons) && o.photons >= 0))
    throw core::ConfigError(
        core::cat("config key '", drr.full_key("photons"), "' = ", o.photons, ", expected >= 0 (0: no noise)"));
  if (config.has("truth")) {
    const core::Config truth = config.section("truth");
    o.truth.min_diameter_mm = truth.get<double>("min_diameter_mm", o.truth.min_diameter_mm);
    o.truth.min_readers = truth.get<int>("min_readers", o.truth.min_readers);
    o.truth.textures = truth.get<std::vector<std::string>>("textures", o.truth.textures);
    o.truth.validate("config: truth");
  }
  return o;
}

std::uint16_t png_value(float line_integral, double png_l_max) {
  if (!(line_integral > 0)) return 0;
  const double t = std::min(1.0, static_cast<double>(line_integral) / png_l_max);
  return static_cast<std::uint16_t>(std::lround(65535.0 * t));
}

std::uint16_t transmission_value(float line_integral, double i0) {
  const double q = i0 * std::exp(-static_cast<double>(std::max(0.0f, line_integral)));
  return static_cast<std::uint16_t>(std::clamp<long>(std::lround(q), 0, 65535));
}

core::ViewSet write_views(const fs::path& dir, const std::string& case_id, const core::Rig& rig,
                          const DrrImages& images, const std::vector<core::BoxRecord>& nodules,
                          const RenderOptions& render_options, const ViewOutputOptions& out) {
  nlohmann::json info = render_options.to_json();
  info["line_integral"] = "float32 .npy, integral of mu ds (unitless), rays through pixel centres";
  return write_view_files(dir, case_id, rig, images, nodules, std::move(info), out);
}

core::ViewSet write_view_files(const fs::path& dir, const std::string& case_id, const core::Rig& rig,
                               const DrrImages& images, const std::vector<core::BoxRecord>& nodules,
                               nlohmann::json render_info, const ViewOutputOptions& out) {
  XL_CHECK(std::isfinite(out.png_l_max) && out.png_l_max > 0, "drr: png_l_max = ", out.png_l_max,
           ", expected a finite value > 0");
  XL_CHECK(images.views == static_cast<int>(rig.size()), "drr: ", images.views, " rendered views but the rig has ",
           rig.size(), " cameras");
  XL_CHECK(images.line_integral.size() == std::size_t(images.views) * images.view_pixels(),
           "drr: image buffer size does not match views x height x width");
  fs::create_directories(dir);
  core::ViewSet set;
  set.case_id = case_id;
  set.render = std::move(render_info);
  if (!out.source_case.empty()) set.render["source_case"] = out.source_case;
  set.render["png_window"] = {
      {"kind", "linear"},
      {"png_l_max", out.png_l_max},
      {"formula", "png = round(65535 * clamp(L / png_l_max, 0, 1)); L = png / 65535 * png_l_max"}};
  out.truth.validate("truth filter");
  set.render["truth_filter"] = {{"min_diameter_mm", out.truth.min_diameter_mm},
                                {"min_readers", out.truth.min_readers},
                                {"textures", out.truth.textures}};
  set.boxes_3d = nodules;
  core::apply_truth_filter(set.boxes_3d, out.truth);
  const bool mask = !images.nodule_label.empty();
  std::vector<float> transmitted;
  if (out.transmission) {
    transmitted = transmission(images, out.photons, out.noise_seed);
    set.render["transmission"] = {{"photons", out.photons},
                                  {"noise_seed", out.noise_seed},
                                  {"formula", "I/I0 = exp(-L), Poisson(photons * exp(-L)) / photons when photons > 0"}};
  }
  if (out.dicom) {
    XL_CHECK(out.dicom_sdd_mm.size() == rig.size(), "drr: dicom output needs a source-detector distance per view (",
             out.dicom_sdd_mm.size(), " for ", rig.size(), " views)");
    set.render["dicom"] = {
        {"i0", out.dicom_i0},
        {"formula", "stored = round(i0 * exp(-L)) (uint16, MONOCHROME1, PixelIntensityRelationship LIN, sign +1)"},
        {"quantization", "|L' - L| <= -ln(1 - 0.5 / stored), about 0.5 * exp(L) / i0"}};
  }
  const int H = images.height, W = images.width;
  for (int v = 0; v < images.views; ++v) {
    const float* L = images.view(v);
    core::ViewRecord rec;
    rec.camera = rig[v];
    rec.image_path = view_file(v, ".png");
    rec.line_integral_path = view_file(v, ".npy");
    rec.boxes = core::ground_truth_boxes_2d(rig[v], set.boxes_3d);

    cv::Mat png(H, W, CV_16UC1);
    for (int r = 0; r < H; ++r)
      for (int c = 0; c < W; ++c) png.at<std::uint16_t>(r, c) = png_value(L[r * W + c], out.png_l_max);
    write_png(dir / rec.image_path, png);
    core::write_npy(dir / rec.line_integral_path, L, {H, W});
    if (mask) {
      rec.mask_path = view_file(v, "_mask.png");
      cv::Mat labels(H, W, CV_16UC1, const_cast<std::uint16_t*>(images.nodule_label.data() + v * images.view_pixels()));
      write_png(dir / rec.mask_path, labels);
    }
    if (out.transmission)
      core::write_npy(dir / view_file(v, "_transmission.npy"), transmitted.data() + v * images.view_pixels(), {H, W});
    if (out.dicom) {
      std::vector<std::uint16_t> stored(images.view_pixels());
      for (std::size_t n = 0; n < stored.size(); ++n) stored[n] = transmission_value(L[n], out.dicom_i0);
      data::RadiographWriteOptions wo;
      wo.patient_id = case_id;
      wo.uid_seed = case_id;
      wo.instance = v + 1;
      wo.i0 = out.dicom_i0;
      wo.sdd_mm = out.dicom_sdd_mm[v];
      data::write_radiograph_dicom(dir / view_file(v, ".dcm"), stored, rig[v], wo);
    }
    if (out.overlay) {
      cv::Mat overlay = display_image(L, H, W);
      draw_boxes(overlay, rec.boxes);
      write_png(dir / view_file(v, "_overlay.png"), overlay);
    }
    set.views.push_back(std::move(rec));
  }
  core::write_view_set(dir / "infos.json", set);
  return set;
}

}  // namespace xraylift::drr
