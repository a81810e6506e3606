#include "xraylift/eval/plot.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"

namespace xraylift::eval {
namespace {

cv::Scalar bgr(const std::array<int, 3>& rgb) { return cv::Scalar(rgb[2], rgb[1], rgb[0]); }

std::string tick_text(double v) {
  char buf[32];
  if (std::abs(v - std::round(v)) < 1e-9)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

void centred_text(cv::Mat& img, const std::string& text, cv::Point centre, double scale, int thickness = 1) {
  int baseline = 0;
  const cv::Size sz = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
  cv::putText(img, text, {centre.x - sz.width / 2, centre.y + sz.height / 2}, cv::FONT_HERSHEY_SIMPLEX, scale,
              cv::Scalar(20, 20, 20), thickness, cv::LINE_AA);
}

}  // namespace

std::array<int, 3> series_colour(std::size_t i) {
  static const std::array<int, 3> cycle[] = {{0, 114, 178}, {213, 94, 0},   {0, 158, 115}, {204, 121, 167},
                                             {230, 159, 0}, {86, 180, 233}, {90, 90, 90},  {240, 228, 66}};
  return cycle[i % (sizeof cycle / sizeof cycle[0])];
}

std::vector<unsigned char> render_plot_png(const PlotSpec& s) {
  XL_CHECK(s.x_max > s.x_min && s.y_max > s.y_min, "plot '", s.title, "': empty axis range");
  XL_CHECK(!s.log2_x || s.x_min > 0, "plot '", s.title, "': a log x axis needs x_min > 0");
  XL_CHECK(s.width >= 300 && s.height >= 200, "plot '", s.title, "': image too small");
  cv::Mat img(s.height, s.width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 90, right = 30, top = 60, bottom = 80;
  const cv::Rect area(left, top, s.width - left - right, s.height - top - bottom);
  const auto fx = [&](double x) {
    const double lo = s.log2_x ? std::log2(s.x_min) : s.x_min, hi = s.log2_x ? std::log2(s.x_max) : s.x_max;
    const double v = s.log2_x ? std::log2(std::max(x, s.x_min)) : x;
    return area.x + (std::clamp(v, lo, hi) - lo) / (hi - lo) * area.width;
  };
  const auto fy = [&](double y) {
    return area.y + area.height - (std::clamp(y, s.y_min, s.y_max) - s.y_min) / (s.y_max - s.y_min) * area.height;
  };
  const auto pt = [&](double x, double y) { return cv::Point2d(fx(x), fy(y)); };
  const int shift = 4;  // sub-pixel drawing
  const auto fixed = [&](cv::Point2d p) { return cv::Point(cvRound(p.x * 16), cvRound(p.y * 16)); };

  // Grid, ticks and labels.
  for (std::size_t i = 0; i < s.x_ticks.size(); ++i) {
    const int x = cvRound(fx(s.x_ticks[i]));
    cv::line(img, {x, area.y}, {x, area.y + area.height}, cv::Scalar(225, 225, 225), 1);
    const std::string label = i < s.x_tick_labels.size() ? s.x_tick_labels[i] : tick_text(s.x_ticks[i]);
    centred_text(img, label, {x, area.y + area.height + 18}, 0.5);
  }
  for (double t : s.y_ticks) {
    const int y = cvRound(fy(t));
    cv::line(img, {area.x, y}, {area.x + area.width, y}, cv::Scalar(225, 225, 225), 1);
    centred_text(img, tick_text(t), {area.x - 30, y}, 0.5);
  }
  cv::rectangle(img, area, cv::Scalar(60, 60, 60), 1);
  centred_text(img, s.title, {s.width / 2, 28}, 0.75, 2);
  centred_text(img, s.x_label, {area.x + area.width / 2, s.height - 28}, 0.6);
  // The y label reads bottom-to-top: draw it on its own canvas and rotate.
  if (!s.y_label.empty()) {
    int baseline = 0;
    const cv::Size sz = cv::getTextSize(s.y_label, cv::FONT_HERSHEY_SIMPLEX, 0.6, 1, &baseline);
    cv::Mat label(sz.height + baseline + 6, sz.width + 6, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::putText(label, s.y_label, {3, sz.height + 3}, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(20, 20, 20), 1,
                cv::LINE_AA);
    cv::rotate(label, label, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int y0 = std::max(0, area.y + area.height / 2 - label.rows / 2);
    if (label.rows + y0 <= img.rows && label.cols + 8 <= img.cols)
      label.copyTo(img(cv::Rect(8, y0, label.cols, label.rows)));
  }

  // Series, clipped to the plot area.
  cv::Mat plot_area = img(area);
  for (const auto& ser : s.series) {
    XL_CHECK(ser.x.size() == ser.y.size(), "plot '", s.title, "': series '", ser.name, "' has ", ser.x.size(),
             " x values but ", ser.y.size(), " y values");
    const cv::Scalar colour = bgr(ser.rgb);
    const cv::Point2d origin(area.x, area.y);
    for (std::size_t i = 0; i < ser.x.size(); ++i) {
      if (!std::isfinite(ser.x[i]) || !std::isfinite(ser.y[i])) continue;
      const cv::Point2d p = pt(ser.x[i], ser.y[i]) - origin;
      if (ser.line && i > 0 && std::isfinite(ser.x[i - 1]) && std::isfinite(ser.y[i - 1]))
        cv::line(plot_area, fixed(pt(ser.x[i - 1], ser.y[i - 1]) - origin), fixed(p), colour, 2, cv::LINE_AA, shift);
      if (ser.markers) cv::circle(plot_area, fixed(p), 6 * 16, colour, 2, cv::LINE_AA, shift);
    }
  }
  // Legend: bottom right inside the plot, on a white box so that curves never hide it.
  std::vector<const PlotSeries*> named;
  int text_width = 0;
  for (const auto& ser : s.series) {
    if (ser.name.empty()) continue;
    named.push_back(&ser);
    int baseline = 0;
    text_width = std::max(text_width, cv::getTextSize(ser.name, cv::FONT_HERSHEY_SIMPLEX, 0.5, 1, &baseline).width);
  }
  if (!named.empty()) {
    const int row_h = 22, box_w = text_width + 56, box_h = row_h * static_cast<int>(named.size()) + 10;
    const cv::Rect box(std::max(area.x + 4, area.x + area.width - box_w - 10), area.y + area.height - box_h - 10, box_w,
                       box_h);
    cv::rectangle(img, box, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::rectangle(img, box, cv::Scalar(160, 160, 160), 1);
    for (std::size_t k = 0; k < named.size(); ++k) {
      const int y = box.y + 16 + row_h * static_cast<int>(k), x = box.x + 8;
      const cv::Scalar colour = bgr(named[k]->rgb);
      if (named[k]->line) cv::line(img, {x, y}, {x + 28, y}, colour, 2, cv::LINE_AA);
      if (named[k]->markers) cv::circle(img, {x + 14, y}, 5, colour, 2, cv::LINE_AA);
      cv::putText(img, named[k]->name, {x + 40, y + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(20, 20, 20), 1,
                  cv::LINE_AA);
    }
  }
  std::vector<unsigned char> png;
  XL_CHECK(cv::imencode(".png", img, png), "plot '", s.title, "': PNG encoding failed");
  return png;
}

void write_plot_png(const std::filesystem::path& path, const PlotSpec& spec) {
  const auto png = render_plot_png(spec);
  core::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace xraylift::eval
