// CenterNet / CenterPoint targets and losses on the voxel grid, peak decoding to world boxes, the heatmap volume
// (docs/detect3d.md "fusion").
#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/detect3d/fusion/model.hpp"

namespace xraylift::detect3d::fusion {
namespace {

void check_output(const FusionOutput& output) {
  const auto& d = output.grid.dims;
  for (const auto* t : {&output.heatmap, &output.offset, &output.log_size}) {
    const std::int64_t channels = t == &output.heatmap ? 1 : 3;
    XL_CHECK(t->defined() && t->dim() == 5 && t->size(0) == 1 && t->size(1) == channels && t->size(2) == d.z() &&
                 t->size(3) == d.y() && t->size(4) == d.x(),
             "fusion: an output must be [1, ", channels, ", ", d.z(), ", ", d.y(), ", ", d.x(), "] on its grid, got ",
             t->defined() ? t->sizes() : torch::IntArrayRef{});
  }
}

}  // namespace

HeatmapTargets make_targets(const core::VolumeGeometry& grid, const std::vector<core::BoxRecord>& truths,
                            const FusionConfig& config, const torch::Device& device) {
  grid.validate("fusion voxel grid");
  const int nx = grid.dims.x(), ny = grid.dims.y(), nz = grid.dims.z();
  const double voxel = grid.spacing.x();
  XL_CHECK(grid.spacing.y() == voxel && grid.spacing.z() == voxel,
           "fusion: the voxel grid must have cubic voxels, got ", grid.spacing.transpose(), " mm");
  auto heatmap = torch::zeros({nz, ny, nx}, torch::kFloat32);
  auto negative_weight = torch::ones({nz, ny, nx}, torch::kFloat32);
  auto h = heatmap.accessor<float, 3>();
  auto w = negative_weight.accessor<float, 3>();
  std::vector<std::int64_t> centers;
  std::vector<float> offsets, log_sizes;
  for (std::size_t i = 0; i < truths.size(); ++i) {
    const auto& truth = truths[i];
    core::validate_box(truth.box, core::cat("fusion targets: truth ", i, " ('", truth.id, "')"));
    if (truth.ignore) {
      // Voxels whose cell (centre +- half a voxel) overlaps the box: at least the voxel holding its centre. In
      // index units a cell i spans (i - 0.5, i + 0.5), so it overlaps (lo, hi) when lo - 0.5 < i < hi + 0.5.
      const Eigen::Vector3d lo = grid.world_to_index(truth.box.min()).array() - 0.5;
      const Eigen::Vector3d hi = grid.world_to_index(truth.box.max()).array() + 0.5;
      auto first = [](double x) { return int(std::floor(x)) + 1; };
      auto last = [](double x) { return int(std::ceil(x)) - 1; };
      const int x0 = std::max(0, first(lo.x())), x1 = std::min(nx - 1, last(hi.x()));
      const int y0 = std::max(0, first(lo.y())), y1 = std::min(ny - 1, last(hi.y()));
      const int z0 = std::max(0, first(lo.z())), z1 = std::min(nz - 1, last(hi.z()));
      for (int z = z0; z <= z1; ++z)
        for (int y = y0; y <= y1; ++y)
          for (int x = x0; x <= x1; ++x) w[z][y][x] = 0.0f;
      continue;
    }
    const Eigen::Vector3d index = grid.world_to_index(truth.box.center);
    const Eigen::Vector3d rounded = index.array().round();
    const int cx = int(rounded.x()), cy = int(rounded.y()), cz = int(rounded.z());
    if (cx < 0 || cy < 0 || cz < 0 || cx >= nx || cy >= ny || cz >= nz) continue;  // outside the grid: no target
    const double radius =
        std::max(config.min_radius_voxels, config.radius_fraction * 0.5 * truth.box.mean_extent() / voxel);
    const double sigma = (2.0 * radius + 1.0) / 6.0;  // CenterNet's draw_gaussian: diameter / 6
    const int window = int(std::floor(radius));
    for (int dz = -window; dz <= window; ++dz)
      for (int dy = -window; dy <= window; ++dy)
        for (int dx = -window; dx <= window; ++dx) {
          const int x = cx + dx, y = cy + dy, z = cz + dz;
          if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz) continue;
          const float value = float(std::exp(-(dx * dx + dy * dy + dz * dz) / (2.0 * sigma * sigma)));
          h[z][y][x] = std::max(h[z][y][x], value);
        }
    centers.push_back(cx + std::int64_t(nx) * (cy + std::int64_t(ny) * cz));
    for (int a = 0; a < 3; ++a) {
      offsets.push_back(float(index[a] - rounded[a]));
      log_sizes.push_back(float(std::log(truth.box.size[a] / config.size_prior_mm)));
    }
  }
  HeatmapTargets t;
  const auto m = static_cast<std::int64_t>(centers.size());
  t.heatmap = heatmap.to(device);
  t.negative_weight = negative_weight.to(device);
  t.centers = torch::tensor(centers, torch::kLong).reshape({m}).to(device);
  t.offset = torch::tensor(offsets, torch::kFloat32).reshape({m, 3}).to(device);
  t.log_size = torch::tensor(log_sizes, torch::kFloat32).reshape({m, 3}).to(device);
  return t;
}

torch::Tensor penalty_reduced_focal_loss(const torch::Tensor& logits, const HeatmapTargets& targets, double alpha,
                                         double beta) {
  XL_CHECK(logits.defined() && logits.numel() == targets.heatmap.numel(), "fusion: heatmap logits of ",
           logits.defined() ? logits.numel() : 0, " voxels for targets of ", targets.heatmap.numel());
  const auto x = logits.to(torch::kFloat32).reshape(targets.heatmap.sizes());
  auto positive = torch::zeros_like(targets.heatmap, torch::kBool);
  positive.view({-1}).index_fill_(0, targets.centers, true);
  const auto p = torch::sigmoid(x);
  // log p and log(1 - p) from log-sigmoids: finite for any logit.
  const auto positive_terms = -(1.0 - p).pow(alpha) * torch::log_sigmoid(x);
  const auto negative_terms =
      -targets.negative_weight * (1.0 - targets.heatmap).pow(beta) * p.pow(alpha) * torch::log_sigmoid(-x);
  const auto total = torch::where(positive, positive_terms, torch::zeros_like(x)).sum() +
                     torch::where(positive, torch::zeros_like(x), negative_terms).sum();
  return total / double(std::max<std::int64_t>(1, targets.centers.size(0)));
}

std::map<std::string, torch::Tensor> fusion_losses(const FusionOutput& output, const HeatmapTargets& targets,
                                                   const FusionConfig& config) {
  check_output(output);
  std::map<std::string, torch::Tensor> losses;
  losses["loss_heatmap"] = config.heatmap_weight *
                           penalty_reduced_focal_loss(output.heatmap, targets, config.focal_alpha, config.focal_beta);
  const std::int64_t objects = targets.centers.size(0);
  auto at_centers = [&](const torch::Tensor& t) {  // [1, 3, D, H, W] -> [M, 3]
    return t.to(torch::kFloat32).reshape({3, -1}).index_select(1, targets.centers).t();
  };
  const double normaliser = double(std::max<std::int64_t>(1, objects));
  // With no object the terms are zero but stay in the graph, so every parameter still gets a (zero) gradient.
  losses["loss_offset"] = config.offset_weight * (at_centers(output.offset) - targets.offset).abs().sum() / normaliser;
  losses["loss_size"] = config.size_weight * (at_centers(output.log_size) - targets.log_size).abs().sum() / normaliser;
  losses["loss"] = losses["loss_heatmap"] + losses["loss_offset"] + losses["loss_size"];
  return losses;
}

std::vector<core::BoxRecord> decode(const FusionOutput& output, const FusionConfig& config) {
  check_output(output);
  torch::NoGradGuard no_grad;
  const auto& grid = output.grid;
  const std::int64_t nx = grid.dims.x(), ny = grid.dims.y();
  const auto probability = torch::sigmoid(output.heatmap.to(torch::kFloat32));  // [1, 1, D, H, W]
  const auto pooled = torch::max_pool3d(probability, config.peak_kernel, 1, config.peak_kernel / 2);
  const auto peaks = torch::where(probability == pooled, probability, torch::zeros_like(probability)).reshape({-1});
  const std::int64_t k = std::min<std::int64_t>(config.top_k, peaks.numel());
  const auto best = torch::topk(peaks, k);
  const auto scores = std::get<0>(best).to(torch::kCPU, torch::kFloat64).contiguous();
  const auto indices = std::get<1>(best);
  const auto offsets =
      output.offset.reshape({3, -1}).index_select(1, indices).t().to(torch::kCPU, torch::kFloat64).contiguous();
  const auto log_sizes =
      output.log_size.reshape({3, -1}).index_select(1, indices).t().to(torch::kCPU, torch::kFloat64).contiguous();
  const auto linear = indices.to(torch::kCPU).contiguous();
  const auto s = scores.accessor<double, 1>();
  const auto l = linear.accessor<std::int64_t, 1>();
  const auto o = offsets.accessor<double, 2>();
  const auto z = log_sizes.accessor<double, 2>();
  std::vector<core::BoxRecord> boxes;
  for (std::int64_t i = 0; i < k; ++i) {
    if (!(s[i] >= config.score_threshold) || s[i] <= 0) break;  // sorted: the rest score lower
    const std::int64_t index = l[i];
    const Eigen::Vector3d voxel(double(index % nx), double((index / nx) % ny), double(index / (nx * ny)));
    core::BoxRecord record;
    record.box.center = grid.index_to_world(voxel + Eigen::Vector3d(o[i][0], o[i][1], o[i][2]));
    for (int a = 0; a < 3; ++a)  // clamped so that a diverged head still gives a valid box
      record.box.size[a] = config.size_prior_mm * std::exp(std::clamp(z[i][a], -20.0, 20.0));
    record.score = std::clamp(s[i], 0.0, 1.0);
    record.source = core::BoxSource::kPrediction;
    record.id = core::cat("fusion", boxes.size());
    boxes.push_back(record);
  }
  return boxes;
}

core::VolumeF heatmap_volume(const FusionOutput& output) {
  check_output(output);
  torch::NoGradGuard no_grad;
  const auto probability = torch::sigmoid(output.heatmap.to(torch::kFloat32)).to(torch::kCPU).contiguous();
  core::VolumeF volume(output.grid);
  std::copy(probability.data_ptr<float>(), probability.data_ptr<float>() + probability.numel(), volume.data());
  return volume;
}

core::VolumeI16 probability_volume_i16(const core::VolumeF& probabilities) {
  core::VolumeI16 out(probabilities.geometry());
  for (std::int64_t n = 0; n < probabilities.size(); ++n) {
    const float p = probabilities.values()[std::size_t(n)];
    XL_CHECK(p >= 0 && p <= 1, "fusion: heatmap voxel ", n, " is ", p, "; expected a probability in [0, 1]");
    out.values()[std::size_t(n)] = static_cast<std::int16_t>(std::lround(p * 10000.0));
  }
  return out;
}

}  // namespace xraylift::detect3d::fusion
