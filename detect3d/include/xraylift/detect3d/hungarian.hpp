#pragma once
// Minimum-cost assignment (Kuhn-Munkres with potentials, the O(n^3) shortest-augmenting-path form of
// Jonker-Volgenant). The MV2D head matches queries to ground-truth boxes per case with it (docs/detect3d.md).
#include <Eigen/Core>
#include <utility>
#include <vector>

namespace xraylift::detect3d {

// cost: N x M (rectangular either way). Returns min(N, M) (row, col) pairs, sorted by row, that together have the
// minimum total cost; every row and every column appears at most once. Empty matrices return no pairs. Throws
// InputError naming the first non-finite entry. Deterministic: equal-cost optima resolve the same way every run.
std::vector<std::pair<int, int>> hungarian_match(const Eigen::MatrixXd& cost);

// The same on a row-major buffer of rows * cols values (costs computed in libtorch and copied to the CPU).
std::vector<std::pair<int, int>> hungarian_match(const std::vector<float>& cost_row_major, int rows, int cols);

// Total cost of `pairs` in `cost` (for callers and tests).
double assignment_cost(const Eigen::MatrixXd& cost, const std::vector<std::pair<int, int>>& pairs);

}  // namespace xraylift::detect3d
