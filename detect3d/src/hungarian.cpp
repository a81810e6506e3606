// Kuhn-Munkres with row/column potentials: rows are added one at a time and each is joined by a shortest
// augmenting path (Dijkstra over reduced costs), O(n^2 m) for n <= m rows. A taller matrix is solved transposed.
#include "xraylift/detect3d/hungarian.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d {

namespace {

// Requires rows <= cols. Returns col_of_row.
std::vector<int> solve_wide(const Eigen::MatrixXd& a) {
  const int n = static_cast<int>(a.rows()), m = static_cast<int>(a.cols());
  const double inf = std::numeric_limits<double>::infinity();
  // 1-based arrays; column 0 is the virtual start of every augmenting path.
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0), min_to(m + 1);
  std::vector<int> row_of(m + 1, 0), way(m + 1, 0);
  std::vector<char> used(m + 1);
  for (int i = 1; i <= n; ++i) {
    row_of[0] = i;
    int j0 = 0;
    std::fill(min_to.begin(), min_to.end(), inf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      const int i0 = row_of[j0];
      double delta = inf;
      int j1 = -1;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double reduced = a(i0 - 1, j - 1) - u[i0] - v[j];
        if (reduced < min_to[j]) {
          min_to[j] = reduced;
          way[j] = j0;
        }
        // Strict '<': the lowest column index wins ties, so equal-cost optima resolve deterministically.
        if (min_to[j] < delta) {
          delta = min_to[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) {
          u[row_of[j]] += delta;
          v[j] -= delta;
        } else {
          min_to[j] -= delta;
        }
      }
      j0 = j1;
    } while (row_of[j0] != 0);
    do {  // augment along the path back to the virtual column
      const int j1 = way[j0];
      row_of[j0] = row_of[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> col_of(n, -1);
  for (int j = 1; j <= m; ++j)
    if (row_of[j] != 0) col_of[row_of[j] - 1] = j - 1;
  return col_of;
}

}  // namespace

std::vector<std::pair<int, int>> hungarian_match(const Eigen::MatrixXd& cost) {
  for (Eigen::Index i = 0; i < cost.rows(); ++i)
    for (Eigen::Index j = 0; j < cost.cols(); ++j)
      XL_CHECK(std::isfinite(cost(i, j)), "hungarian_match: cost(", i, ", ", j, ") = ", cost(i, j),
               ", expected a finite number (", cost.rows(), " x ", cost.cols(), " matrix)");
  std::vector<std::pair<int, int>> pairs;
  if (cost.rows() == 0 || cost.cols() == 0) return pairs;
  if (cost.rows() <= cost.cols()) {
    const auto col_of = solve_wide(cost);
    for (int i = 0; i < static_cast<int>(col_of.size()); ++i) pairs.emplace_back(i, col_of[i]);
  } else {
    const Eigen::MatrixXd t = cost.transpose();
    const auto row_of_col = solve_wide(t);
    for (int j = 0; j < static_cast<int>(row_of_col.size()); ++j) pairs.emplace_back(row_of_col[j], j);
    std::sort(pairs.begin(), pairs.end());
  }
  return pairs;
}

std::vector<std::pair<int, int>> hungarian_match(const std::vector<float>& cost, int rows, int cols) {
  XL_CHECK(rows >= 0 && cols >= 0, "hungarian_match: negative size ", rows, " x ", cols);
  XL_CHECK(cost.size() == static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols),
           "hungarian_match: buffer of ", cost.size(), " values for a ", rows, " x ", cols, " matrix (expected ",
           static_cast<long long>(rows) * cols, ")");
  Eigen::MatrixXd m(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) m(i, j) = static_cast<double>(cost[static_cast<std::size_t>(i) * cols + j]);
  return hungarian_match(m);
}

double assignment_cost(const Eigen::MatrixXd& cost, const std::vector<std::pair<int, int>>& pairs) {
  double total = 0;
  for (const auto& [i, j] : pairs) {
    XL_CHECK(i >= 0 && i < cost.rows() && j >= 0 && j < cost.cols(), "assignment_cost: pair (", i, ", ", j,
             ") outside the ", cost.rows(), " x ", cost.cols(), " matrix");
    total += cost(i, j);
  }
  return total;
}

}  // namespace xraylift::detect3d
