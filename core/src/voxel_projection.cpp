#include "xraylift/core/voxel_projection.hpp"

#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::core {

Eigen::Vector3d voxel_centre(const VolumeGeometry& g, std::int64_t linear) {
  const std::int64_t nx = g.dims.x(), ny = g.dims.y();
  const std::int64_t i = linear % nx, j = (linear / nx) % ny, k = linear / (nx * ny);
  return {g.origin.x() + g.spacing.x() * double(i), g.origin.y() + g.spacing.y() * double(j),
          g.origin.z() + g.spacing.z() * double(k)};
}

VoxelProjections project_voxel_centres(const VolumeGeometry& grid, const std::vector<Camera>& cameras,
                                       std::int64_t max_values) {
  grid.validate("voxel projection grid");
  XL_CHECK(grid.axis_aligned(), "voxel projection: the grid must be axis-aligned");
  XL_CHECK(!cameras.empty(), "voxel projection: no cameras; expected one per view");
  const std::int64_t n = grid.voxel_count();
  XL_CHECK(n <= max_values / std::int64_t(cameras.size()), "voxel projection: ", grid.dims.x(), " x ", grid.dims.y(),
           " x ", grid.dims.z(), " voxels x ", cameras.size(), " views = ", n * std::int64_t(cameras.size()),
           " projections; expected at most ", max_values, " (a coarser grid or a smaller box)");
  VoxelProjections out;
  out.voxels = n;
  out.views = cameras.size();
  out.pixels.resize(std::size_t(n) * cameras.size());
  out.visible.resize(out.pixels.size());
  std::vector<Eigen::Matrix<double, 3, 4>> p;
  for (const auto& c : cameras) p.push_back(c.projection());
  parallel_for_chunks(0, n, 4096, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const Eigen::Vector3d x = voxel_centre(grid, i);
      for (std::size_t v = 0; v < p.size(); ++v) {
        const std::size_t at = v * std::size_t(n) + std::size_t(i);
        out.pixels[at] = project_through(p[v], x);
        out.visible[at] = in_image(out.pixels[at], cameras[v].width(), cameras[v].height());
      }
    }
  });
  return out;
}

}  // namespace xraylift::core
