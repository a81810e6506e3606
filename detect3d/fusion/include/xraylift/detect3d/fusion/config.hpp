#pragma once
// Options of the fusion detector (docs/detect3d.md "fusion"): a voxel grid over the scene box, per-view features
// lifted into it, a 3D CNN with CenterPoint-style heads. Torch-free, so configs and memory budgets are checked
// without libtorch. Lengths in millimetres, the grid in core's volume convention (core/volume.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "xraylift/core/config.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/detect3d/scene_range.hpp"

namespace xraylift::detect3d::fusion {

struct FusionConfig {
  // Voxel grid: cubic voxels covering the scene box (fusion_grid): the shared `detect3d.scene`.
  SceneRange scene;
  double voxel_mm = 4.0;

  // Per-view encoder, `encoder.type`:
  //  - "backbone": detect2d's backbone + FPN (the `model` section's schema); the FPN level of `encoder_stride` is
  //    reduced by a 1 x 1 convolution to `lift_channels` and lifted. Trained with the 3D network.
  //  - "log_bank": fixed filters, no parameters: per view a scale-normalised Laplacian of Gaussian (-sigma^2 LoG, a
  //    blob's line integral gives a positive response) for each of `bank_diameters_mm` (sigma = d / (2 sqrt 2) at
  //    the scene centre's depth, converted to pixels by each view's magnification), each channel divided by its
  //    spread over the view, plus (`bank_intensity`) the view itself smoothed at the smallest scale, lifted at full
  //    resolution. The lifted features of a case do not change during training, so they are cached
  //    (`bank_cache_mb`) and a training step is the 3D network's alone (docs/detect3d.md "fusion").
  std::string encoder_type = "backbone";
  int encoder_stride = 8;
  int lift_channels = 16;
  std::vector<double> bank_diameters_mm = {5.0, 7.0, 10.0, 14.0, 20.0};
  bool bank_intensity = true;
  double bank_cache_mb = 4096.0;

  // Aggregation over the views that see a voxel, order-invariant: "mean_std" (mean and standard deviation) or
  // "mean_quantile" (mean and the `quantile` of the visible views' values: a low quantile exposes agreement).
  // Either way the fraction of views that see the voxel is appended: 2 * lifted_channels() + 1 input channels.
  std::string aggregation = "mean_std";
  double quantile = 0.25;

  // 3D CNN: a stem conv, `blocks` residual blocks per scale, `scales` 1 (full resolution) or 2 (plus a stride-2
  // stage with twice the channels, upsampled and added back); GroupNorm with `groups` groups.
  int channels = 32;
  int blocks = 2;
  int scales = 1;
  int groups = 8;

  // Heads: heatmap logit (bias so that sigmoid starts at heatmap_prior), sub-voxel offset (voxels), log size in
  // mm relative to log(size_prior_mm).
  double heatmap_prior = 0.01;
  double size_prior_mm = 10.0;

  // Targets (CenterNet / CenterPoint): a Gaussian around each truth's centre voxel with radius
  // max(min_radius_voxels, radius_fraction * half the truth's mean extent / voxel_mm) voxels, sigma = (2 r + 1) / 6.
  double min_radius_voxels = 1.0;
  double radius_fraction = 1.0;

  // Losses: penalty-reduced focal loss (CenterNet's alpha, beta) normalised by the object count, L1 on the offset
  // and the log size at the centre voxels.
  double focal_alpha = 2.0;
  double focal_beta = 4.0;
  double heatmap_weight = 1.0;
  double offset_weight = 1.0;
  double size_weight = 1.0;

  // Decode: local maxima of the sigmoid heatmap in a peak_kernel^3 window (odd), best top_k, score >= threshold.
  int top_k = 50;
  double score_threshold = 0.1;
  int peak_kernel = 3;

  // Training on crops (`crop.voxels` per axis, 0: the whole grid): the network is fully convolutional, so a cube
  // of the lifted grid trains it as the whole grid would, at a fraction of the cost. `crop.positive_fraction` of
  // the crops are centred near a random counted truth (jittered by up to a quarter of the crop), the rest anywhere.
  // Drawn from torch's generator (the trainer's seed). Inference always runs on the whole grid.
  int crop_voxels = 0;
  double crop_positive_fraction = 0.5;

  // The grid plus its features must fit this budget (estimate_memory); 0 disables the check.
  double max_memory_mb = 16384.0;

  // Reads the `detect3d.fusion` section with the shared scene box; an unknown key in it is a ConfigError naming the
  // key and its file, invalid values a ConfigError naming the section and file.
  static FusionConfig from_config(const core::Config& section, const SceneRange& scene = {});
  void validate() const;  // throws ConfigError naming the field
  bool fixed_encoder() const { return encoder_type == "log_bank"; }
  // What is lifted: channels per view and the stride of the lifted maps.
  int lifted_channels() const {
    return fixed_encoder() ? static_cast<int>(bank_diameters_mm.size()) + (bank_intensity ? 1 : 0) : lift_channels;
  }
  int lifted_stride() const { return fixed_encoder() ? 1 : encoder_stride; }
  int input_channels() const { return 2 * lifted_channels() + 1; }
};

// The voxel grid of a config: per axis n = ceil(extent / voxel_mm) cubic voxels centred on the scene box (so the
// cells cover it); voxel (0, 0, 0)'s centre is the geometry's origin, x fastest (core::VolumeGeometry).
core::VolumeGeometry fusion_grid(const FusionConfig& config);

// What one case needs, in bytes (float32), for `views` views of width x height pixels. An estimate from the tensor
// sizes, not a measurement; the encoder's backbone activations are not included.
struct FusionMemoryEstimate {
  std::int64_t voxels = 0;
  double projection_mb = 0;  // cached sampling grids and visibility, [V, N] x 3 floats
  double feature_mb = 0;     // the per-view maps at the lifted level, [V, lift_channels, H / s, W / s]
  double lifted_mb = 0;      // samples [V, lift_channels, N] (+ the sort of mean_quantile) and the aggregate
  double network_mb = 0;     // 3D CNN activations (kept for backward when training, plus their gradients; on
                             // the crop.voxels^3 cube when training on crops)
  double total_mb = 0;
};
FusionMemoryEstimate estimate_memory(const FusionConfig& config, int views, int width, int height, bool training);
// Throws ConfigError naming `where`, the grid (dims, voxel size), the memory it would need and the limit when the
// estimate exceeds config.max_memory_mb (> 0).
void check_memory(const FusionConfig& config, int views, int width, int height, bool training,
                  const std::string& where);

}  // namespace xraylift::detect3d::fusion
