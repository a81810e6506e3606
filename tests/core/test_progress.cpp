#include <gtest/gtest.h>

#include "xraylift/core/progress.hpp"

using xraylift::core::Progress;

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(Progress::format_duration(12.34), "12.3s");
  EXPECT_EQ(Progress::format_duration(185), "3m05s");
  EXPECT_EQ(Progress::format_duration(3720), "1h02m");
  EXPECT_EQ(Progress::format_duration(-1), "?");
}

TEST(Progress, LineShowsCountsRateAndStatus) {
  Progress p("render", 40, 1e9);
  p.tick(10);
  p.set_status("case 3");
  const std::string line = p.render_line(false);
  EXPECT_NE(line.find("10/40"), std::string::npos) << line;
  EXPECT_NE(line.find(" 25%"), std::string::npos) << line;
  EXPECT_NE(line.find("/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
  EXPECT_NE(line.find("| case 3"), std::string::npos) << line;
  EXPECT_NE(p.render_line(true).find("done"), std::string::npos);
  EXPECT_EQ(p.done(), 10);
}
