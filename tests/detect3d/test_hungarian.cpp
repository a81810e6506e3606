#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "xraylift/core/error.hpp"
#include "xraylift/detect3d/hungarian.hpp"

using namespace xraylift;
using detect3d::assignment_cost;
using detect3d::hungarian_match;

namespace {

// Minimum over every injection of the smaller side into the larger (all permutations of the larger side's indices,
// first k used): at most 8! = 40320 orders per matrix.
double brute_force_min(const Eigen::MatrixXd& c) {
  const bool wide = c.rows() <= c.cols();
  const int k = static_cast<int>(std::min(c.rows(), c.cols()));
  const int n = static_cast<int>(std::max(c.rows(), c.cols()));
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {
    double total = 0;
    for (int i = 0; i < k; ++i) total += wide ? c(i, perm[i]) : c(perm[i], i);
    best = std::min(best, total);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

void expect_valid(const Eigen::MatrixXd& c, const std::vector<std::pair<int, int>>& pairs) {
  ASSERT_EQ(pairs.size(), static_cast<std::size_t>(std::min(c.rows(), c.cols())));
  std::vector<char> row_used(c.rows(), 0), col_used(c.cols(), 0);
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const auto [i, j] = pairs[p];
    ASSERT_GE(i, 0);
    ASSERT_LT(i, c.rows());
    ASSERT_GE(j, 0);
    ASSERT_LT(j, c.cols());
    EXPECT_FALSE(row_used[i]) << "row " << i << " used twice";
    EXPECT_FALSE(col_used[j]) << "column " << j << " used twice";
    row_used[i] = col_used[j] = 1;
    if (p > 0) EXPECT_LT(pairs[p - 1].first, i) << "pairs not sorted by row";
  }
}

}  // namespace

TEST(Hungarian, MatchesBruteForceOnEveryShapeUpTo8x8) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> real(-5.0, 10.0);
  std::uniform_int_distribution<int> small(-2, 3);  // integer costs: many ties
  for (int rows = 1; rows <= 8; ++rows) {
    for (int cols = 1; cols <= 8; ++cols) {
      const int trials = std::max(rows, cols) >= 8 ? 3 : 8;
      for (int t = 0; t < trials; ++t) {
        Eigen::MatrixXd c(rows, cols);
        const bool ties = t % 2 == 1;
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j) c(i, j) = ties ? small(rng) : real(rng);
        const auto pairs = hungarian_match(c);
        expect_valid(c, pairs);
        EXPECT_NEAR(assignment_cost(c, pairs), brute_force_min(c), 1e-9)
            << rows << " x " << cols << " trial " << t << "\n"
            << c;
      }
    }
  }
}

TEST(Hungarian, RecoversAPermutation) {
  // A diagonal-dominant matrix with rows and columns permuted: the matching is the inverse permutation.
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> noise(0.0, 0.5);
  for (int n : {1, 2, 5, 8, 30, 100}) {
    std::vector<int> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    Eigen::MatrixXd c(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) c(i, j) = (perm[i] == j ? 0.0 : 1.0) + noise(rng);
    const auto pairs = hungarian_match(c);
    ASSERT_EQ(pairs.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(pairs[i].first, i);
      EXPECT_EQ(pairs[i].second, perm[i]);
    }
  }
}

TEST(Hungarian, RectangularPicksTheCheapestRowsOrColumns) {
  // 2 x 5: rows take columns 3 and 1; 5 x 2 (transposed): the same pairs mirrored.
  Eigen::MatrixXd wide(2, 5);
  wide << 9, 8, 7, 1, 9,  //
      9, 2, 9, 3, 9;
  const auto w = hungarian_match(wide);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], std::make_pair(0, 3));
  EXPECT_EQ(w[1], std::make_pair(1, 1));
  const auto t = hungarian_match(Eigen::MatrixXd(wide.transpose()));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], std::make_pair(1, 1));
  EXPECT_EQ(t[1], std::make_pair(3, 0));
}

TEST(Hungarian, EmptyAndOneByOne) {
  EXPECT_TRUE(hungarian_match(Eigen::MatrixXd(0, 0)).empty());
  EXPECT_TRUE(hungarian_match(Eigen::MatrixXd(0, 4)).empty());
  EXPECT_TRUE(hungarian_match(Eigen::MatrixXd(3, 0)).empty());
  Eigen::MatrixXd one(1, 1);
  one << -2.5;
  const auto p = hungarian_match(one);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], std::make_pair(0, 0));
}

TEST(Hungarian, FloatBufferMatchesTheMatrixForm) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const int rows = 4, cols = 7;
  std::vector<float> buf(rows * cols);
  Eigen::MatrixXd m(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) m(i, j) = buf[i * cols + j] = u(rng);
  EXPECT_EQ(hungarian_match(buf, rows, cols), hungarian_match(m));
  EXPECT_THROW(hungarian_match(buf, rows, cols + 1), core::InputError);
  EXPECT_THROW(hungarian_match(buf, -1, cols), core::InputError);
  EXPECT_TRUE(hungarian_match(std::vector<float>{}, 0, 3).empty());
}

TEST(Hungarian, RejectsNonFiniteCosts) {
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    Eigen::MatrixXd c = Eigen::MatrixXd::Ones(3, 4);
    c(2, 1) = bad;
    try {
      hungarian_match(c);
      ADD_FAILURE() << "no InputError for " << bad;
    } catch (const core::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("cost(2, 1)"), std::string::npos) << e.what();
    }
  }
  std::vector<float> buf(6, 1.0f);
  buf[4] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(hungarian_match(buf, 2, 3), core::InputError);
}

TEST(Hungarian, IsDeterministicUnderTies) {
  const Eigen::MatrixXd c = Eigen::MatrixXd::Zero(6, 6);
  const auto first = hungarian_match(c);
  for (int r = 0; r < 3; ++r) EXPECT_EQ(hungarian_match(c), first);
}
