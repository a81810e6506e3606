// Radiographs -> a view set (docs/drr.md "Importing radiographs"): intensities to line integrals by one rule.
#include "xraylift/drr/import_views.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/radiograph.hpp"

namespace fs = std::filesystem;

namespace xraylift::drr {

namespace {

std::string lower_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

bool is_image_name(const fs::path& p) {
  const std::string e = lower_extension(p);
  return e == ".dcm" || e == ".png" || e == ".tif" || e == ".tiff";
}

const char* depth_name(int depth) {
  switch (depth) {
    case CV_8U:
      return "8-bit unsigned";
    case CV_8S:
      return "8-bit signed";
    case CV_16S:
      return "16-bit signed";
    case CV_32S:
      return "32-bit integer";
    case CV_32F:
      return "32-bit float";
    case CV_64F:
      return "64-bit float";
    default:
      return "unsupported";
  }
}

RadiographImage read_raster(const fs::path& file, const std::string& kind) {
  RadiographImage img;
  img.file = file.string();
  img.kind = kind;
  const cv::Mat m = cv::imread(file.string(), cv::IMREAD_UNCHANGED | cv::IMREAD_ANYDEPTH);
  XL_CHECK(!m.empty(), img.file, ": not readable as a ", kind == "png" ? "PNG" : "TIFF", " image");
  XL_CHECK(m.depth() == CV_16U, img.file, ": ", depth_name(m.depth()),
           " pixels, expected 16-bit unsigned (an 8-bit radiograph cannot hold the range of line integrals)");
  XL_CHECK(m.channels() == 1, img.file, ": ", m.channels(), " channels, expected a single-channel (grey) image");
  img.width = m.cols, img.height = m.rows;
  img.intensity.resize(std::size_t(m.rows) * m.cols);
  for (int r = 0; r < m.rows; ++r)
    for (int c = 0; c < m.cols; ++c) img.intensity[std::size_t(r) * m.cols + c] = m.at<std::uint16_t>(r, c);
  img.attributes = {{"kind", kind}, {"bits", 16}};
  return img;
}

}  // namespace

void IntensityRule::validate() const {
  if (flat_field && !(std::isfinite(*flat_field) && *flat_field > 0))
    throw core::ConfigError(core::cat("--flat-field = ", *flat_field, ", expected an intensity > 0"));
  if (!(std::isfinite(air_percentile) && air_percentile > 0 && air_percentile <= 100))
    throw core::ConfigError(core::cat("--air-percentile = ", air_percentile, ", expected 0 < p <= 100"));
  if (!(std::isfinite(max_line_integral) && max_line_integral > 0))
    throw core::ConfigError(core::cat("--max-line-integral = ", max_line_integral, ", expected a value > 0"));
}

RadiographImage read_radiograph(const fs::path& file) {
  XL_CHECK(fs::is_regular_file(file), "radiograph '", file.string(), "' does not exist or is not a file");
  const std::string e = lower_extension(file);
  if (e == ".png") return read_raster(file, "png");
  if (e == ".tif" || e == ".tiff") return read_raster(file, "tiff");
  XL_CHECK(e == ".dcm" || data::looks_like_dicom(file), file.string(),
           ": not a radiograph xraylift reads (expected .dcm / DICOM Part 10, .png, .tif or .tiff)");
  data::Radiograph r = data::read_radiograph_dicom(file);
  RadiographImage img;
  img.file = r.file;
  img.kind = "dicom";
  img.width = r.width, img.height = r.height;
  img.intensity = std::move(r.values);
  img.file_i0 = r.i0;
  img.camera = r.camera;
  img.column_spacing_mm = r.column_spacing_mm;
  nlohmann::json a = {{"kind", "dicom"},
                      {"modality", r.modality},
                      {"photometric", r.photometric},
                      {"inverted", r.inverted},
                      {"rescale_slope", r.rescale_slope},
                      {"rescale_intercept", r.rescale_intercept},
                      {"bits_stored", r.bits_stored}};
  if (!r.intensity_relationship.empty()) a["pixel_intensity_relationship"] = r.intensity_relationship;
  if (r.intensity_sign != 0) a["pixel_intensity_relationship_sign"] = r.intensity_sign;
  if (r.row_spacing_mm) a["spacing_mm"] = {*r.row_spacing_mm, *r.column_spacing_mm}, a["spacing_tag"] = r.spacing_tag;
  if (r.source_detector_mm) a["source_detector_mm"] = *r.source_detector_mm;
  if (r.source_patient_mm) a["source_patient_mm"] = *r.source_patient_mm;
  if (r.window_center && r.window_width) a["window"] = {*r.window_center, *r.window_width};
  if (!r.patient_orientation.empty()) a["patient_orientation"] = r.patient_orientation;
  img.attributes = std::move(a);
  return img;
}

std::vector<fs::path> radiograph_files(const std::vector<fs::path>& inputs) {
  std::vector<fs::path> files;
  for (const auto& in : inputs) {
    XL_CHECK(fs::exists(in), "views import: input '", in.string(), "' does not exist");
    if (!fs::is_directory(in)) {
      files.push_back(in);
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(in)) {
      if (!e.is_regular_file()) continue;
      const fs::path& p = e.path();
      if (p.filename().string().rfind('.', 0) == 0) continue;  // hidden files, temporaries
      if (is_image_name(p) || (p.extension().empty() && data::looks_like_dicom(p))) found.push_back(p);
    }
    std::sort(found.begin(), found.end());
    XL_CHECK(!found.empty(), "views import: folder '", in.string(), "' holds no .dcm, .png, .tif or .tiff file");
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::pair<double, std::string> intensity_i0(const RadiographImage& image, const IntensityRule& rule) {
  if (rule.flat_field) return {*rule.flat_field, "flat-field"};
  if (image.file_i0) {
    XL_CHECK(std::isfinite(*image.file_i0) && *image.file_i0 > 0, image.file,
             ": private I0 (0029,1002) = ", *image.file_i0, ", expected > 0");
    return {*image.file_i0, "dicom"};
  }
  XL_CHECK(!image.intensity.empty(), image.file, ": no pixels");
  std::vector<double> v = image.intensity;
  const auto k = static_cast<std::ptrdiff_t>(std::floor(rule.air_percentile / 100.0 * double(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  const double i0 = v[std::size_t(k)];
  XL_CHECK(i0 > 0, image.file, ": the air level (the ", rule.air_percentile, "th percentile of the intensities) is ",
           i0, ", expected > 0 (an empty or inverted image?); give --flat-field");
  return {i0, core::cat("air p", rule.air_percentile)};
}

std::vector<float> line_integrals(const std::vector<double>& intensity, double i0, const IntensityRule& rule) {
  std::vector<float> L(intensity.size());
  for (std::size_t n = 0; n < intensity.size(); ++n) {
    const double l = -std::log(std::max(intensity[n], 0.5) / i0);
    L[n] = static_cast<float>(std::clamp(l, 0.0, rule.max_line_integral));
  }
  return L;
}

ImportResult import_views(const std::vector<fs::path>& files, const fs::path& out, const ImportOptions& o) {
  o.rule.validate();
  XL_CHECK(!files.empty(), "views import: no radiographs given");
  if (o.rig && o.rig->size() != files.size())
    throw core::ConfigError(core::cat("views import: the rig of '", o.rig_origin, "' has ", o.rig->size(),
                                      " views, but ", files.size(), " radiographs were given (one camera per image)"));
  std::vector<RadiographImage> images;
  std::vector<core::Camera> cameras;
  for (std::size_t i = 0; i < files.size(); ++i) {
    RadiographImage img = read_radiograph(files[i]);
    if (!images.empty())
      XL_CHECK(img.width == images.front().width && img.height == images.front().height, img.file, ": ", img.width,
               " x ", img.height, " px, but '", images.front().file, "' is ", images.front().width, " x ",
               images.front().height, " (every view of a set has one size)");
    if (o.rig) {
      const core::Camera& cam = (*o.rig)[i];
      if (cam.width() != img.width || cam.height() != img.height)
        throw core::ConfigError(core::cat("views import: camera ", i, " ('", cam.name(), "') of '", o.rig_origin,
                                          "' is ", cam.width(), " x ", cam.height(), " px, but '", img.file, "' is ",
                                          img.width, " x ", img.height));
      cameras.push_back(cam);
    } else {
      XL_CHECK(img.kind == "dicom", img.file,
               ": a PNG/TIFF has no geometry; give the cameras (--config RIG.yaml or --cameras infos.json)");
      XL_CHECK(img.column_spacing_mm, img.file,
               ": no pixel spacing (ImagerPixelSpacing (0018,1164) or PixelSpacing (0028,0030)) and no rig given; "
               "give --config RIG.yaml or --cameras infos.json");
      XL_CHECK(img.camera, img.file,
               ": no camera (xraylift private block (0029,1000..1003) absent) and no rig given; give --config "
               "RIG.yaml or --cameras infos.json");
      cameras.push_back(*img.camera);
    }
    images.push_back(std::move(img));
  }
  const int W = images.front().width, H = images.front().height;
  XL_CHECK(W <= core::kMaxDetectorPixels && H <= core::kMaxDetectorPixels, images.front().file, ": ", W, " x ", H,
           " px, expected at most ", core::kMaxDetectorPixels, " per side");

  ImportResult result;
  DrrImages set;
  set.views = static_cast<int>(images.size()), set.width = W, set.height = H;
  set.line_integral.reserve(std::size_t(set.views) * set.view_pixels());
  nlohmann::json views = nlohmann::json::array();
  for (const auto& img : images) {
    const auto [i0, source] = intensity_i0(img, o.rule);
    const auto L = line_integrals(img.intensity, i0, o.rule);
    set.line_integral.insert(set.line_integral.end(), L.begin(), L.end());
    result.i0.push_back(i0);
    result.i0_source.push_back(source);
    nlohmann::json v = {{"file", img.file}, {"i0", i0}, {"i0_source", source}, {"attributes", img.attributes}};
    views.push_back(std::move(v));
  }
  nlohmann::json info;
  info["import"] = {
      {"rule",
       "L = clamp(-ln(max(I, 0.5) / I0), 0, max_line_integral); I0: flat field, else the DICOM private I0, "
       "else the air percentile of the image"},
      {"max_line_integral", o.rule.max_line_integral},
      {"air_percentile", o.rule.air_percentile},
      {"cameras", o.rig ? o.rig_origin : std::string("the DICOM files' xraylift camera blocks")},
      {"views", views}};
  info["line_integral"] = "float32 .npy, -ln(I / I0) of the imported radiographs (unitless)";
  const core::Rig rig(cameras);
  const fs::path named = out.filename().empty() ? out.parent_path() : out;
  const std::string case_id = o.case_id.empty() ? named.filename().string() : o.case_id;
  XL_CHECK(!case_id.empty(), "views import: no case id for output '", out.string(), "'; give --case-id");
  core::write_folder_atomic(
      out, [&](const fs::path& temp) { result.views = write_view_files(temp, case_id, rig, set, {}, info, o.output); });
  return result;
}

}  // namespace xraylift::drr
