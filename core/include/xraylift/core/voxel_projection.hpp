#pragma once
// Voxel centres projected into views (written once, docs/ARCHITECTURE.md "Conventions"): the fusion detector lifts
// per-view features at these pixels (detect3d/fusion, lift.cpp) and the visual hull carves the lungs with them
// (drr/visual_hull.hpp). Plain Eigen, no torch: p = K [R | t] (x, y, z, 1); u = p0 / p2, v = p1 / p2, depth = p2
// (z_cam, camera.hpp). Voxel order is core::Volume's (x fastest); the grid must be axis-aligned.
#include <cstdint>
#include <vector>

#include "xraylift/core/camera.hpp"
#include "xraylift/core/volume.hpp"

namespace xraylift::core {

// World centre of voxel `linear` (x fastest) of an axis-aligned grid: origin + spacing * index, as torch's
// `origin + spacing * arange` computes it (fusion's outputs do not change with the move).
Eigen::Vector3d voxel_centre(const VolumeGeometry& grid, std::int64_t linear);

struct PixelProjection {
  double u = 0, v = 0;  // continuous pixel coordinates (undefined when depth <= 0)
  double depth = 0;     // z_cam in mm; <= 0: at or behind the source
};

// Projects a world point through a camera's 3 x 4 matrix (Camera::projection()).
inline PixelProjection project_through(const Eigen::Matrix<double, 3, 4>& p, const Eigen::Vector3d& x) {
  PixelProjection out;
  const double a = p(0, 0) * x.x() + p(0, 1) * x.y() + p(0, 2) * x.z() + p(0, 3);
  const double b = p(1, 0) * x.x() + p(1, 1) * x.y() + p(1, 2) * x.z() + p(1, 3);
  out.depth = p(2, 0) * x.x() + p(2, 1) * x.y() + p(2, 2) * x.z() + p(2, 3);
  out.u = a / out.depth;
  out.v = b / out.depth;
  return out;
}

// In front of the source and inside the image [0, W) x [0, H).
inline bool in_image(const PixelProjection& p, int width, int height) {
  return p.depth > 0 && p.u >= 0 && p.u < width && p.v >= 0 && p.v < height;
}

struct VoxelProjections {
  std::int64_t voxels = 0;
  std::size_t views = 0;
  std::vector<PixelProjection> pixels;  // [view * voxels + voxel]
  std::vector<std::uint8_t> visible;    // same layout: in_image of that view
  const PixelProjection& at(std::size_t view, std::int64_t voxel) const {
    return pixels[view * std::size_t(voxels) + std::size_t(voxel)];
  }
};

// Every voxel centre of `grid` through every camera (core::parallel_for over voxels). Throws InputError for an
// invalid or non-axis-aligned grid, no cameras, or more than `max_values` projections (view x voxel), naming them.
inline constexpr std::int64_t kMaxVoxelProjections = std::int64_t(1) << 28;
VoxelProjections project_voxel_centres(const VolumeGeometry& grid, const std::vector<Camera>& cameras,
                                       std::int64_t max_values = kMaxVoxelProjections);

}  // namespace xraylift::core
