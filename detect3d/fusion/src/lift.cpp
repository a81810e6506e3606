// Lifting per-view features into the voxel grid: projection through core::Camera, bilinear sampling with
// grid_sample, aggregation over the views (docs/detect3d.md "fusion").
#include <cmath>
#include <limits>

#include "xraylift/core/error.hpp"
#include "xraylift/core/voxel_projection.hpp"
#include "xraylift/detect3d/fusion/model.hpp"

namespace xraylift::detect3d::fusion {

torch::Tensor projection_matrices(const std::vector<core::Camera>& cameras) {
  XL_CHECK(!cameras.empty(), "fusion: no cameras; expected one per view");
  auto p = torch::empty({static_cast<std::int64_t>(cameras.size()), 3, 4}, torch::kFloat64);
  auto a = p.accessor<double, 3>();
  for (std::size_t v = 0; v < cameras.size(); ++v) {
    const Eigen::Matrix<double, 3, 4> m = cameras[v].projection();
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) a[v][r][c] = m(r, c);
  }
  return p;
}

PointProjection project_points(const torch::Tensor& points_mm, const torch::Tensor& projections) {
  XL_CHECK(points_mm.defined() && points_mm.dim() == 2 && points_mm.size(1) == 3,
           "fusion: points must be [N, 3] (world mm), got ",
           points_mm.defined() ? points_mm.sizes() : torch::IntArrayRef{});
  XL_CHECK(projections.defined() && projections.dim() == 3 && projections.size(1) == 3 && projections.size(2) == 4,
           "fusion: projections must be [V, 3, 4] (K [R | t]), got ",
           projections.defined() ? projections.sizes() : torch::IntArrayRef{});
  const auto p = projections.to(points_mm.options());
  const auto homogeneous = torch::cat({points_mm, torch::ones({points_mm.size(0), 1}, points_mm.options())}, 1);
  // [1, N, 4] x [V, 4, 3] -> [V, N, 3]; K's last row is (0, 0, 1), so the third coordinate is z_cam.
  const auto uvw = torch::matmul(homogeneous.unsqueeze(0), p.transpose(1, 2));
  PointProjection out;
  out.depth = uvw.select(2, 2);
  out.uv = uvw.slice(2, 0, 2) / out.depth.unsqueeze(2);
  return out;
}

torch::Tensor voxel_centers(const core::VolumeGeometry& grid, const torch::Device& device) {
  grid.validate("fusion voxel grid");
  XL_CHECK(grid.axis_aligned(), "fusion: the voxel grid must be axis-aligned");
  const auto options = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  std::vector<torch::Tensor> axes;
  for (int a = 0; a < 3; ++a) axes.push_back(grid.origin[a] + grid.spacing[a] * torch::arange(grid.dims[a], options));
  // meshgrid over (z, y, x) so that x varies fastest in the flattened order, as in core::Volume.
  const auto zyx = torch::meshgrid({axes[2], axes[1], axes[0]}, "ij");
  return torch::stack({zyx[2], zyx[1], zyx[0]}, -1).reshape({-1, 3});
}

torch::Tensor sample_coordinates(const torch::Tensor& uv, std::int64_t feature_width, std::int64_t feature_height,
                                 std::int64_t stride) {
  XL_CHECK(feature_width >= 1 && feature_height >= 1 && stride >= 1, "fusion: feature map ", feature_width, " x ",
           feature_height, " at stride ", stride, "; expected positive values");
  // align_corners = false maps g to index ((g + 1) W - 1) / 2; index u / stride - 0.5 needs g = 2 u / (stride W) - 1.
  const auto gx = uv.select(-1, 0) * (2.0 / double(stride * feature_width)) - 1.0;
  const auto gy = uv.select(-1, 1) * (2.0 / double(stride * feature_height)) - 1.0;
  return torch::stack({gx, gy}, -1);
}

LiftGrid make_lift_grid(const core::VolumeGeometry& grid, const std::vector<core::Camera>& cameras, std::int64_t stride,
                        std::int64_t feature_width, std::int64_t feature_height, const torch::Device& device) {
  grid.validate("fusion voxel grid");
  XL_CHECK(grid.axis_aligned(), "fusion: the voxel grid must be axis-aligned");
  XL_CHECK(!cameras.empty(), "fusion: no cameras; expected one per view");
  // The one voxel -> pixel projection (core/voxel_projection.hpp), shared with the visual hull of drr.
  const core::VoxelProjections vp =
      core::project_voxel_centres(grid, cameras, std::numeric_limits<std::int64_t>::max());
  const std::int64_t views = std::int64_t(cameras.size()), n = vp.voxels;
  auto uv_cpu = torch::empty({views, n, 2}, torch::kFloat64);
  auto visible_cpu = torch::empty({views, n}, torch::kBool);
  {
    double* uv = uv_cpu.data_ptr<double>();
    bool* vis = visible_cpu.data_ptr<bool>();
    for (std::size_t k = 0; k < vp.pixels.size(); ++k) {
      uv[2 * k] = vp.pixels[k].u, uv[2 * k + 1] = vp.pixels[k].v;
      vis[k] = vp.visible[k] != 0;
    }
  }
  const auto visible = visible_cpu.to(device);
  XL_CHECK(visible.any().item<bool>(), "fusion: no voxel of the grid (", grid.dims.x(), " x ", grid.dims.y(), " x ",
           grid.dims.z(), " voxels from ", grid.world_bounds().min().transpose(), " to ",
           grid.world_bounds().max().transpose(), " mm) is seen by any of the ", cameras.size(),
           " views; expected a scene box inside the views' field");
  auto coords = sample_coordinates(uv_cpu.to(device), feature_width, feature_height, stride);
  // Points behind a source have meaningless (or infinite) pixels: park them outside the map (sampled as zero, and
  // masked out anyway).
  coords = torch::where(visible.unsqueeze(2), coords, torch::full_like(coords, -2.0));
  LiftGrid lift;
  lift.grid = coords.to(torch::kFloat32).unsqueeze(1).contiguous();
  lift.visible = visible;
  return lift;
}

torch::Tensor sample_views(const torch::Tensor& features, const LiftGrid& lift) {
  XL_CHECK(features.defined() && features.dim() == 4, "fusion: features must be [V, C, H, W], got ",
           features.defined() ? features.sizes() : torch::IntArrayRef{});
  XL_CHECK(lift.grid.defined() && lift.grid.dim() == 4 && lift.grid.size(0) == features.size(0),
           "fusion: a sampling grid for ", lift.grid.defined() ? lift.grid.size(0) : 0, " views and features of ",
           features.size(0));
  namespace F = torch::nn::functional;
  // Sampled in float32 whatever the features' dtype: bf16 grid coordinates would lose half a pixel at 256 cells.
  const auto sampled = F::grid_sample(
      features.to(torch::kFloat32), lift.grid.to(features.device()),
      F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false));
  return sampled.squeeze(2);  // [V, C, 1, N] -> [V, C, N]
}

torch::Tensor aggregate_views(const torch::Tensor& samples, const torch::Tensor& visible, const std::string& mode,
                              double quantile) {
  XL_CHECK(samples.defined() && samples.dim() == 3, "fusion: samples must be [V, C, N], got ",
           samples.defined() ? samples.sizes() : torch::IntArrayRef{});
  XL_CHECK(visible.defined() && visible.dim() == 2 && visible.size(0) == samples.size(0) &&
               visible.size(1) == samples.size(2),
           "fusion: visibility must be [", samples.size(0), ", ", samples.size(2), "], got ",
           visible.defined() ? visible.sizes() : torch::IntArrayRef{});
  XL_CHECK(mode == "mean_std" || mode == "mean_quantile", "fusion: aggregation '", mode,
           "'; expected mean_std or mean_quantile");
  XL_CHECK(quantile >= 0 && quantile <= 1, "fusion: quantile ", quantile, "; expected [0, 1]");
  const std::int64_t views = samples.size(0);
  const auto mask = visible.to(samples.dtype()).unsqueeze(1);  // [V, 1, N]
  const auto count = mask.sum(0);                              // [1, N]
  const auto seen = count > 0;
  const auto denominator = count.clamp_min(1.0);
  const auto mean = (samples * mask).sum(0) / denominator;  // [C, N]
  torch::Tensor second;
  if (mode == "mean_std") {
    const auto variance = ((samples - mean.unsqueeze(0)).square() * mask).sum(0) / denominator;
    // The epsilon keeps the gradient of sqrt finite where every view agrees exactly.
    second = torch::where(seen, (variance + 1e-8).sqrt(), torch::zeros_like(variance));
  } else {
    // Unseen views sort last (+inf); order statistics below `count` are the visible values in increasing order.
    const auto masked =
        torch::where(mask > 0, samples, torch::full_like(samples, std::numeric_limits<float>::infinity()));
    auto sorted = std::get<0>(torch::sort(masked, 0));
    const auto rank = torch::arange(views, samples.options()).view({views, 1, 1});
    sorted = torch::where(rank < count.unsqueeze(0), sorted, torch::zeros_like(sorted));
    const auto position = (quantile * (count - 1.0)).clamp_min(0.0);  // [1, N]
    const auto lower = position.floor();
    const auto weight = (position - lower).expand_as(mean);
    const auto lo = lower.to(torch::kLong).expand_as(mean).unsqueeze(0);
    const auto hi = (lower + 1.0).clamp_max((count - 1.0).clamp_min(0.0)).to(torch::kLong).expand_as(mean).unsqueeze(0);
    second = sorted.gather(0, lo).squeeze(0) * (1.0 - weight) + sorted.gather(0, hi).squeeze(0) * weight;
  }
  return torch::cat({mean, second, count / double(views)}, 0);
}

}  // namespace xraylift::detect3d::fusion
