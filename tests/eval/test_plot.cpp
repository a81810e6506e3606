#include "xraylift/eval/plot.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;

TEST(Plot, DrawsSeriesInTheirColour) {
  eval::PlotSpec s;
  s.title = "t";
  s.x_ticks = {0, 0.5, 1};
  s.y_ticks = {0, 0.5, 1};
  eval::PlotSeries line;
  line.x = {0, 1};
  line.y = {0.5, 0.5};
  line.rgb = {255, 0, 0};
  s.series.push_back(line);
  const auto png = eval::render_plot_png(s);
  const cv::Mat img = cv::imdecode(png, cv::IMREAD_COLOR);
  ASSERT_EQ(img.cols, s.width);
  ASSERT_EQ(img.rows, s.height);
  // The horizontal line at y = 0.5 sits half way down the plot area (top 60, bottom 80 px margins).
  const int row = 60 + (s.height - 140) / 2, col = s.width / 2;
  int red = 0;
  for (int dy = -2; dy <= 2; ++dy) {
    const auto px = img.at<cv::Vec3b>(row + dy, col);
    red += px[2] > 200 && px[1] < 80 && px[0] < 80;
  }
  EXPECT_GT(red, 0);
  const auto corner = img.at<cv::Vec3b>(5, 5);
  EXPECT_EQ(corner, cv::Vec3b(255, 255, 255));
}

TEST(Plot, LogAxisAndErrors) {
  eval::PlotSpec s;
  s.log2_x = true;
  s.x_min = 0;  // invalid for a log axis
  EXPECT_THROW(eval::render_plot_png(s), core::InputError);
  s.x_min = 0.125;
  s.x_max = 8;
  eval::PlotSeries bad;
  bad.x = {1, 2};
  bad.y = {1};
  s.series.push_back(bad);
  EXPECT_THROW(eval::render_plot_png(s), core::InputError);
  s.series.clear();
  const auto path = xraylift::testing::scratch_dir("plot") / "p.png";
  eval::write_plot_png(path, s);
  EXPECT_FALSE(cv::imread(path.string()).empty());
}
