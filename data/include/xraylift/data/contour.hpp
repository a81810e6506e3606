#pragma once
// Outlines of 2D binary masks as LIDC edge maps: the boundary pixels of each 8-connected component, in order
// (Moore-neighbour tracing). Filling such an outline (pixel centres inside or on it) gives the component back,
// holes excepted.
#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace xraylift::data {

// mask: width * height values, row-major (x fastest); non-zero = inside. Returns one outline per component,
// points (x = column, y = row).
std::vector<std::vector<Eigen::Vector2d>> trace_outlines(const std::vector<std::uint8_t>& mask, int width, int height);

// Whether point p is inside the closed outline or on it (how LIDC outlines are filled: they run through the
// boundary pixels' centres). A one-point outline contains only that point.
bool outline_contains(const std::vector<Eigen::Vector2d>& outline, const Eigen::Vector2d& p);

}  // namespace xraylift::data
