#pragma once
// Outlines of 2D binary masks: the boundary pixels of each 8-connected component, in order (Moore-neighbour
// tracing). Filling such an outline (pixel centres inside or on it) gives the component back, holes excepted.
// LIDC edge maps run just OUTSIDE the nodule (pylidc's boolean_mask leaves the contour points out): the nodule
// is the pixel centres strictly inside its outline; outside_outlines() writes a region that way.
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
// Strictly inside: inside the closed outline and not on it (the LIDC reading; empty for one or two points).
bool outline_strictly_contains(const std::vector<Eigen::Vector2d>& outline, const Eigen::Vector2d& p);

// Outlines that run through the pixels just outside each component (the outline of the mask grown by one
// pixel, 8-neighbourhood, with the inner-corner pixels that tracing steps past put on it, so consecutive points
// are 4-neighbours): reading them with outline_strictly_contains gives the mask back for convex blobs (and the
// mask plus a few concave-corner pixels otherwise).
std::vector<std::vector<Eigen::Vector2d>> outside_outlines(const std::vector<std::uint8_t>& mask, int width,
                                                           int height);

}  // namespace xraylift::data
