#pragma once
// Small line plots as PNG (OpenCV drawing): axes with ticks and labels, several series with a legend,
// optional point markers. Enough for FROC and precision-recall curves in reports; not a plotting library.
#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace xraylift::eval {

struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
  std::array<int, 3> rgb = {31, 119, 180};
  bool line = true;      // connect the points
  bool markers = false;  // circle at each point
};

struct PlotSpec {
  std::string title, x_label, y_label;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  bool log2_x = false;  // x axis in log2 (FROC)
  std::vector<double> x_ticks, y_ticks;
  std::vector<std::string> x_tick_labels;  // optional, same length as x_ticks
  std::vector<PlotSeries> series;
  int width = 960, height = 680;
};

// PNG bytes. Throws InputError on an empty or inverted range, or a log axis with x_min <= 0.
std::vector<unsigned char> render_plot_png(const PlotSpec& spec);
void write_plot_png(const std::filesystem::path& path, const PlotSpec& spec);  // atomic

// A colour per series index (a fixed, colour-blind-friendly cycle).
std::array<int, 3> series_colour(std::size_t index);

}  // namespace xraylift::eval
