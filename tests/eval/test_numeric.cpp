#include "xraylift/eval/numeric.hpp"

#include <gtest/gtest.h>

using namespace xraylift::eval;

TEST(Numeric, LinspaceMatchesNumpy) {
  const auto r = linspace(0, 1, 101);
  ASSERT_EQ(r.size(), 101u);
  for (int i = 0; i <= 100; ++i) EXPECT_EQ(r[i], i * 0.01) << i;
  EXPECT_NE(r[57], 0.57);  // numpy gives 0.5700000000000001, not 0.57
  EXPECT_EQ(r.back(), 1.0);
  EXPECT_EQ(linspace(0.5, 0.95, 10)[9], 0.95);
  EXPECT_TRUE(linspace(0, 1, 0).empty());
}

TEST(Numeric, InterpLikeNumpy) {
  const std::vector<double> xp = {0, 1, 1, 1, 3}, fp = {0, 0.2, 0.4, 0.6, 1.0};
  EXPECT_DOUBLE_EQ(interp(-1, xp, fp), 0.0);  // left
  EXPECT_DOUBLE_EQ(interp(5, xp, fp), 1.0);   // right
  EXPECT_DOUBLE_EQ(interp(5, xp, fp, 0, 0), 0.0);
  EXPECT_DOUBLE_EQ(interp(1, xp, fp), 0.6);    // last of the tied run
  EXPECT_DOUBLE_EQ(interp(0.5, xp, fp), 0.1);  // between 0 and the first of the run
  EXPECT_DOUBLE_EQ(interp(2, xp, fp), 0.8);    // between the last of the run and 3
  EXPECT_DOUBLE_EQ(interp(3, xp, fp), 1.0);
  EXPECT_DOUBLE_EQ(interp(0.3, {}, {}, -2, 7), -2.0);
}
