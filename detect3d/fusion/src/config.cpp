// FusionConfig: reading, validation, the voxel grid and the memory estimate (torch-free).
#include "xraylift/detect3d/fusion/config.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d::fusion {
namespace {

// Every key of the section, for the unknown-key message.
const std::vector<const char*> kKeys = {"voxel_mm",
                                        "encoder.type",
                                        "encoder.diameters_mm",
                                        "encoder.intensity",
                                        "encoder.cache_mb",
                                        "encoder.stride",
                                        "encoder.channels",
                                        "aggregation.mode",
                                        "aggregation.quantile",
                                        "net.channels",
                                        "net.blocks",
                                        "net.scales",
                                        "net.groups",
                                        "heads.heatmap_prior",
                                        "heads.size_prior_mm",
                                        "targets.min_radius_voxels",
                                        "targets.radius_fraction",
                                        "loss.focal_alpha",
                                        "loss.focal_beta",
                                        "loss.heatmap",
                                        "loss.offset",
                                        "loss.size",
                                        "decode.top_k",
                                        "decode.score_threshold",
                                        "decode.peak_kernel",
                                        "crop.voxels",
                                        "crop.positive_fraction",
                                        "max_memory_mb"};

constexpr double kMb = 1024.0 * 1024.0;

[[noreturn]] void fail(const std::string& what) { throw core::ConfigError("detect3d.fusion: " + what); }

}  // namespace

FusionConfig FusionConfig::from_config(const core::Config& c, const SceneRange& scene) {
  FusionConfig f;
  f.scene = scene;
  f.voxel_mm = c.get("voxel_mm", f.voxel_mm);
  f.encoder_type = c.get("encoder.type", f.encoder_type);
  f.bank_diameters_mm = c.get("encoder.diameters_mm", f.bank_diameters_mm);
  f.bank_intensity = c.get("encoder.intensity", f.bank_intensity);
  f.bank_cache_mb = c.get("encoder.cache_mb", f.bank_cache_mb);
  f.encoder_stride = c.get("encoder.stride", f.encoder_stride);
  f.lift_channels = c.get("encoder.channels", f.lift_channels);
  // The filter bank has neither a stride nor learned channels: a value for them would be silently ignored.
  if (f.fixed_encoder())
    for (const char* key : {"encoder.stride", "encoder.channels"})
      if (c.has(key))
        throw core::ConfigError(core::cat(c.origin(key), ": ", c.full_key(key),
                                          " does not apply to encoder.type log_bank (fixed filters lifted at full "
                                          "resolution); remove it"));
  f.aggregation = c.get("aggregation.mode", f.aggregation);
  f.quantile = c.get("aggregation.quantile", f.quantile);
  f.channels = c.get("net.channels", f.channels);
  f.blocks = c.get("net.blocks", f.blocks);
  f.scales = c.get("net.scales", f.scales);
  f.groups = c.get("net.groups", f.groups);
  f.heatmap_prior = c.get("heads.heatmap_prior", f.heatmap_prior);
  f.size_prior_mm = c.get("heads.size_prior_mm", f.size_prior_mm);
  f.min_radius_voxels = c.get("targets.min_radius_voxels", f.min_radius_voxels);
  f.radius_fraction = c.get("targets.radius_fraction", f.radius_fraction);
  f.focal_alpha = c.get("loss.focal_alpha", f.focal_alpha);
  f.focal_beta = c.get("loss.focal_beta", f.focal_beta);
  f.heatmap_weight = c.get("loss.heatmap", f.heatmap_weight);
  f.offset_weight = c.get("loss.offset", f.offset_weight);
  f.size_weight = c.get("loss.size", f.size_weight);
  f.top_k = c.get("decode.top_k", f.top_k);
  f.score_threshold = c.get("decode.score_threshold", f.score_threshold);
  f.peak_kernel = c.get("decode.peak_kernel", f.peak_kernel);
  f.crop_voxels = c.get("crop.voxels", f.crop_voxels);
  f.crop_positive_fraction = c.get("crop.positive_fraction", f.crop_positive_fraction);
  f.max_memory_mb = c.get("max_memory_mb", f.max_memory_mb);
  // Typos inside this section fail here, whether or not the command checks the whole config afterwards.
  c.check_section_keys(std::vector<std::string>(kKeys.begin(), kKeys.end()));
  std::string section = c.full_key("");
  try {
    f.validate();
  } catch (const core::ConfigError& e) {
    std::string origin = "defaults";
    for (const char* key : kKeys)
      if (origin == "defaults" && c.has(key)) origin = c.origin(key);
    if (!section.empty()) section.pop_back();  // the trailing '.'
    throw core::ConfigError(core::cat("config section '", section, "' (from ", origin, "): ", e.what()));
  }
  return f;
}

void FusionConfig::validate() const {
  try {
    scene.validate("scene");
  } catch (const core::InputError& e) {
    fail(e.what());
  }
  if (!(voxel_mm > 0 && std::isfinite(voxel_mm))) fail(core::cat("voxel_mm must be > 0, got ", voxel_mm));
  if (encoder_type != "backbone" && encoder_type != "log_bank")
    fail(core::cat("encoder.type must be backbone or log_bank, got '", encoder_type, "'"));
  if (fixed_encoder()) {
    if (bank_diameters_mm.empty() || bank_diameters_mm.size() > 16)
      fail(core::cat("encoder.diameters_mm must list 1 to 16 nodule diameters, got ", bank_diameters_mm.size()));
    for (double d : bank_diameters_mm)
      if (!(d >= 1 && d <= 100)) fail(core::cat("encoder.diameters_mm: ", d, " mm; expected 1 to 100 mm"));
  }
  if (!(bank_cache_mb >= 0 && std::isfinite(bank_cache_mb)))
    fail(core::cat("encoder.cache_mb must be >= 0, got ", bank_cache_mb));
  if (encoder_stride < 1) fail(core::cat("encoder.stride must be >= 1, got ", encoder_stride));
  if (lift_channels < 1) fail(core::cat("encoder.channels must be >= 1, got ", lift_channels));
  if (aggregation != "mean_std" && aggregation != "mean_quantile")
    fail(core::cat("aggregation.mode must be mean_std or mean_quantile, got '", aggregation, "'"));
  if (!(quantile >= 0 && quantile <= 1)) fail(core::cat("aggregation.quantile must be in [0, 1], got ", quantile));
  if (channels < 1) fail(core::cat("net.channels must be >= 1, got ", channels));
  if (blocks < 0) fail(core::cat("net.blocks must be >= 0, got ", blocks));
  if (scales != 1 && scales != 2) fail(core::cat("net.scales must be 1 or 2, got ", scales));
  if (groups < 1 || channels % groups != 0)
    fail(core::cat("net.groups must be >= 1 and divide net.channels ", channels, ", got ", groups));
  if (!(heatmap_prior > 0 && heatmap_prior < 1))
    fail(core::cat("heads.heatmap_prior must be in (0, 1), got ", heatmap_prior));
  if (!(size_prior_mm > 0)) fail(core::cat("heads.size_prior_mm must be > 0, got ", size_prior_mm));
  if (!(min_radius_voxels >= 0)) fail(core::cat("targets.min_radius_voxels must be >= 0, got ", min_radius_voxels));
  if (!(radius_fraction >= 0)) fail(core::cat("targets.radius_fraction must be >= 0, got ", radius_fraction));
  if (!(focal_alpha >= 0) || !(focal_beta >= 0))
    fail(core::cat("loss.focal_alpha and loss.focal_beta must be >= 0, got ", focal_alpha, ", ", focal_beta));
  for (double w : {heatmap_weight, offset_weight, size_weight})
    if (!(w >= 0)) fail(core::cat("loss weights (heatmap, offset, size) must be >= 0, got ", w));
  if (top_k < 1) fail(core::cat("decode.top_k must be >= 1, got ", top_k));
  if (!(score_threshold >= 0 && score_threshold <= 1))
    fail(core::cat("decode.score_threshold must be in [0, 1], got ", score_threshold));
  if (peak_kernel < 1 || peak_kernel % 2 == 0)
    fail(core::cat("decode.peak_kernel must be odd and >= 1, got ", peak_kernel));
  if (crop_voxels < 0 || crop_voxels == 1 || crop_voxels > 4096)
    fail(core::cat("crop.voxels must be 0 (no crops) or 2 .. 4096, got ", crop_voxels));
  if (!(crop_positive_fraction >= 0 && crop_positive_fraction <= 1))
    fail(core::cat("crop.positive_fraction must be in [0, 1], got ", crop_positive_fraction));
  if (!(max_memory_mb >= 0)) fail(core::cat("max_memory_mb must be >= 0, got ", max_memory_mb));
}

core::VolumeGeometry fusion_grid(const FusionConfig& config) {
  config.validate();
  core::VolumeGeometry g;
  g.spacing = Eigen::Vector3d::Constant(config.voxel_mm);
  const Eigen::Vector3d centre = 0.5 * (config.scene.min_mm + config.scene.max_mm);
  for (int a = 0; a < 3; ++a) {
    const double extent = config.scene.max_mm[a] - config.scene.min_mm[a];
    // The 1e-9 keeps an extent that is a whole number of voxels from gaining one through rounding.
    const double cells = std::ceil(extent / config.voxel_mm - 1e-9);
    if (cells > 4096)
      fail(core::cat("voxel_mm ", config.voxel_mm, " gives ", cells, " voxels along axis ", a,
                     " of the scene; expected at most 4096"));
    g.dims[a] = std::max(1, static_cast<int>(cells));
    g.origin[a] = centre[a] - 0.5 * config.voxel_mm * (g.dims[a] - 1);
  }
  return g;
}

FusionMemoryEstimate estimate_memory(const FusionConfig& config, int views, int width, int height, bool training) {
  XL_CHECK(views >= 1 && width >= 1 && height >= 1, "fusion memory estimate: views ", views, ", image ", width, " x ",
           height, "; expected positive values");
  const core::VolumeGeometry grid = fusion_grid(config);
  FusionMemoryEstimate e;
  e.voxels = grid.voxel_count();
  const double n = static_cast<double>(e.voxels);
  const double v = views, cl = config.lifted_channels(), c3 = config.channels;
  const double f = 4.0;  // bytes per float32
  e.projection_mb = v * n * 3 * f / kMb;
  const double hf = std::ceil(double(height) / config.lifted_stride()),
               wf = std::ceil(double(width) / config.lifted_stride());
  e.feature_mb = v * cl * hf * wf * f / kMb;
  // Samples [V, C, N]; mean_std also keeps their squares, mean_quantile the sorted copy (+ int64 indices).
  const double per_sample = config.aggregation == "mean_std" ? 2.0 : 4.0;
  e.lifted_mb = (v * cl * n * per_sample + config.input_channels() * n) * f / kMb;
  // Convolutions at full resolution: stem, 2 per block, one hidden layer per head (3 heads); each keeps its conv,
  // norm and ReLU outputs for backward. The half-resolution stage has twice the channels on an eighth of the voxels.
  // Training on crops runs the network on a crop.voxels^3 cube of the grid (clamped to it), not the whole grid.
  double network_voxels = n;
  if (training && config.crop_voxels > 0) {
    network_voxels = 1;
    for (int a = 0; a < 3; ++a) network_voxels *= std::min(config.crop_voxels, grid.dims[a]);
  }
  const double full_layers = 1 + 2.0 * config.blocks + 3;
  const double half_layers = config.scales == 2 ? (1 + 2.0 * config.blocks) * 2.0 / 8.0 + 1 : 0.0;
  if (training) {
    e.network_mb = 3 * (full_layers + half_layers) * c3 * network_voxels * f / kMb;
    // Gradients of the same tensors during backward, as an upper bound.
    e.network_mb *= 2;
    e.lifted_mb *= 2;
  } else {
    e.network_mb = 4 * c3 * n * f / kMb;  // the live tensors of one residual block and its skip
  }
  e.total_mb = e.projection_mb + e.feature_mb + e.lifted_mb + e.network_mb;
  return e;
}

void check_memory(const FusionConfig& config, int views, int width, int height, bool training,
                  const std::string& where) {
  if (!(config.max_memory_mb > 0)) return;
  const FusionMemoryEstimate e = estimate_memory(config, views, width, height, training);
  if (e.total_mb <= config.max_memory_mb) return;
  const core::VolumeGeometry grid = fusion_grid(config);
  throw core::ConfigError(
      core::cat(where, ": the fusion voxel grid ", grid.dims.x(), " x ", grid.dims.y(), " x ", grid.dims.z(), " (",
                e.voxels, " voxels of ", config.voxel_mm, " mm) with ", views, " views of ", width, " x ", height,
                " px would need about ", std::lround(e.total_mb), " MB ", training ? "to train" : "for inference",
                " (lifted features ", std::lround(e.lifted_mb), " MB, 3D network ", std::lround(e.network_mb),
                " MB); detect3d.fusion.max_memory_mb is ", config.max_memory_mb,
                ": use a larger voxel_mm, a smaller scene or fewer channels"));
}

}  // namespace xraylift::detect3d::fusion
