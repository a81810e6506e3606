// Marker images, the printable PDF, chessboards, planar views and chessboard calibration.
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

#include <sstream>

#include "aruco_compat.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/viz/ar.hpp"

namespace xraylift::viz {

cv::Mat marker_image(const MarkerSpec& spec, int cell_px, int quiet_zone_px) {
  XL_CHECK(cell_px >= 1 && quiet_zone_px >= 0, "marker image cell ", cell_px, " px, quiet zone ", quiet_zone_px,
           " px: expected >= 1 and >= 0");
  XL_CHECK(spec.id >= 0, "marker image: id ", spec.id, " must be >= 0");
  const int cells = marker_bits(spec.dictionary) + 2;
  cv::Mat m;
#if XRAYLIFT_ARUCO_OBJDETECT
  cv::aruco::generateImageMarker(cv::aruco::getPredefinedDictionary(aruco_dictionary_id(spec.dictionary)), spec.id,
                                 cells * cell_px, m, 1);
#else
  cv::aruco::drawMarker(cv::aruco::getPredefinedDictionary(aruco_dictionary_id(spec.dictionary)), spec.id,
                        cells * cell_px, m, 1);
#endif
  cv::Mat out;
  cv::copyMakeBorder(m, out, quiet_zone_px, quiet_zone_px, quiet_zone_px, quiet_zone_px, cv::BORDER_CONSTANT,
                     cv::Scalar(255));
  return out;
}

void write_marker_pdf(const std::filesystem::path& path, const MarkerSpec& spec) {
  const cv::Mat cells_img = marker_image(spec, 1, 0);  // one pixel per cell
  const int cells = cells_img.rows;
  const double pt_per_mm = 72.0 / 25.4, page_w = 595.28, page_h = 841.89;
  const double side = spec.size_mm * pt_per_mm, cell = side / cells;
  XL_CHECK(side < page_w - 36, "marker of ", spec.size_mm, " mm does not fit an A4 page (at most ~195 mm)");
  const double x0 = 0.5 * (page_w - side), y0 = 0.5 * (page_h - side);
  std::ostringstream content;
  content.setf(std::ios::fixed);
  content.precision(3);
  content << "0 g\n";
  for (int r = 0; r < cells; ++r)
    for (int c = 0; c < cells; ++c)
      if (cells_img.at<std::uint8_t>(r, c) < 128)
        content << x0 + c * cell << ' ' << y0 + (cells - 1 - r) * cell << ' ' << cell << ' ' << cell << " re\n";
  content << "f\nBT /F1 11 Tf " << x0 << ' ' << y0 - 24 << " Td (ArUco " << spec.dictionary << " id " << spec.id
          << ", black square " << spec.size_mm << " mm: print at 100 % scale, measure before use) Tj ET\n";
  const std::string stream = content.str();
  std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> "
      ">> >>",
      "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "endstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  core::write_file_atomic(path, pdf);
}

void draw_planar_view(cv::Mat& background, const cv::Mat& pattern, double mm_per_px, const cv::Matx33d& K,
                      const cv::Vec3d& rvec, const cv::Vec3d& tvec) {
  XL_CHECK(!background.empty() && !pattern.empty() && mm_per_px > 0, "draw_planar_view: empty image or bad scale");
  cv::Matx33d R;
  cv::Rodrigues(rvec, R);
  // Pattern pixel index (x, y) has its centre at continuous (x + 0.5, y + 0.5); plane X right, Y up, origin centre.
  const double W = pattern.cols, H = pattern.rows, s = mm_per_px;
  const cv::Matx33d M(s, 0, (0.5 - 0.5 * W) * s, 0, -s, (0.5 * H - 0.5) * s, 0, 0, 1);
  const cv::Matx33d P(R(0, 0), R(0, 1), tvec[0], R(1, 0), R(1, 1), tvec[1], R(2, 0), R(2, 1), tvec[2]);
  const cv::Matx33d Hm = K * P * M;
  cv::Mat pat = pattern;
  if (pat.channels() != background.channels())
    cv::cvtColor(pattern, pat, background.channels() == 3 ? cv::COLOR_GRAY2BGR : cv::COLOR_BGR2GRAY);
  cv::Mat mask(pattern.size(), CV_8U, cv::Scalar(255)), warped, warped_mask;
  cv::warpPerspective(pat, warped, cv::Mat(Hm), background.size(), cv::INTER_LINEAR);
  cv::warpPerspective(mask, warped_mask, cv::Mat(Hm), background.size(), cv::INTER_LINEAR);
  // Anti-aliased edge: blend by the warped coverage.
  cv::Mat a, bg, wf;
  warped_mask.convertTo(a, CV_32F, 1.0 / 255);
  if (background.channels() == 3) cv::cvtColor(a, a, cv::COLOR_GRAY2BGR);
  background.convertTo(bg, CV_32F);
  warped.convertTo(wf, CV_32F);
  cv::Mat out = bg.mul(cv::Scalar::all(1.0) - a) + wf.mul(a);
  out.convertTo(background, background.type());
}

cv::Mat chessboard_image(cv::Size inner, int square_px) {
  XL_CHECK(inner.width >= 2 && inner.height >= 2 && square_px >= 2, "chessboard ", inner.width, "x", inner.height,
           " inner corners, ", square_px, " px squares: expected >= 2");
  const int quiet = square_px;
  cv::Mat img((inner.height + 1) * square_px + 2 * quiet, (inner.width + 1) * square_px + 2 * quiet, CV_8U,
              cv::Scalar(255));
  for (int r = 0; r <= inner.height; ++r)
    for (int c = 0; c <= inner.width; ++c)
      if ((r + c) % 2 == 0) img(cv::Rect(quiet + c * square_px, quiet + r * square_px, square_px, square_px)).setTo(0);
  return img;
}

CameraCalibration calibrate_chessboard(const std::vector<cv::Mat>& images, cv::Size inner, double square_mm,
                                       int* used_images) {
  XL_CHECK(inner.width >= 2 && inner.height >= 2, "chessboard inner corners ", inner.width, "x", inner.height,
           ": expected >= 2 x 2");
  XL_CHECK(square_mm > 0 && std::isfinite(square_mm), "chessboard square ", square_mm, " mm: expected > 0");
  std::vector<cv::Point3f> board;
  for (int r = 0; r < inner.height; ++r)
    for (int c = 0; c < inner.width; ++c) board.emplace_back(float(c * square_mm), float(r * square_mm), 0.f);
  std::vector<std::vector<cv::Point3f>> object;
  std::vector<std::vector<cv::Point2f>> image_points;
  cv::Size size;
  for (const auto& img : images) {
    XL_CHECK(!img.empty(), "calibration: an image is empty");
    if (size.width == 0) size = img.size();
    XL_CHECK(img.size() == size, "calibration: image sizes differ (", img.cols, "x", img.rows, " vs ", size.width, "x",
             size.height, ")");
    cv::Mat gray;
    if (img.channels() == 3)
      cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
    else
      gray = img;
    std::vector<cv::Point2f> corners;
    if (!cv::findChessboardCorners(gray, inner, corners, cv::CALIB_CB_ADAPTIVE_THRESH | cv::CALIB_CB_NORMALIZE_IMAGE))
      continue;
    cv::cornerSubPix(gray, corners, {5, 5}, {-1, -1}, {cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 40, 1e-3});
    object.push_back(board);
    image_points.push_back(corners);
  }
  if (used_images) *used_images = int(object.size());
  XL_CHECK(object.size() >= 3, "calibration: the ", inner.width, "x", inner.height, " chessboard was found in ",
           object.size(), " of ", images.size(), " images; need at least 3");
  CameraCalibration c;
  c.image_size = size;
  cv::Mat K, dist;
  std::vector<cv::Mat> rv, tv;
  c.rms_px = cv::calibrateCamera(object, image_points, size, K, dist, rv, tv);
  c.K = cv::Matx33d(K);
  c.dist = dist;
  return c;
}

}  // namespace xraylift::viz
