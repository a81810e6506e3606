#pragma once
// The fusion detector (docs/detect3d.md "fusion"): per-view features from detect2d's ResNet-FPN, lifted into a
// voxel grid over the scene through every view's core::Camera, aggregated over the views, decided in 3D by a small
// CNN with CenterPoint-style heads. One case (all its views) per forward pass; CPU and CUDA through torch ops.
//
// Tensor layouts: voxel tensors are [..., D, H, W] = [..., nz, ny, nx], x fastest, so a [nz, ny, nx] contiguous
// tensor is a core::Volume's storage (core/volume.hpp). Offsets and sizes are ordered (x, y, z).
#include <torch/torch.h>

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/camera.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/detect3d/fusion/config.hpp"

namespace xraylift::detect3d::fusion {

// ---- Lifting (core's camera and pixel conventions, docs/ARCHITECTURE.md "Conventions") ----

// K [R | t] of every camera, [V, 3, 4] float64 (the one packing the fusion code uses; double keeps 1024 px views
// exact to well below a pixel before the division).
torch::Tensor projection_matrices(const std::vector<core::Camera>& cameras);
// Pixels and depths of world points: uv [V, N, 2] (u = fx x / z + cx, v = fy y / z + cy, continuous pixels) and
// depth [V, N] (z_cam, mm), in the dtype and on the device of `points_mm` [N, 3].
struct PointProjection {
  torch::Tensor uv;
  torch::Tensor depth;
};
PointProjection project_points(const torch::Tensor& points_mm, const torch::Tensor& projections);

// World centres of every voxel of `grid`, [N, 3] (x fastest, N = nx ny nz), float64 on `device`.
torch::Tensor voxel_centers(const core::VolumeGeometry& grid, const torch::Device& device);

// grid_sample coordinates (align_corners = false) of continuous pixel coordinates uv [..., 2] on a feature map of
// feature_width x feature_height cells at `stride`: cell i is centred at pixel (i + 0.5) stride (detect2d's
// convention), so pixel u samples feature index u / stride - 0.5.
torch::Tensor sample_coordinates(const torch::Tensor& uv, std::int64_t feature_width, std::int64_t feature_height,
                                 std::int64_t stride);

// The sampling grid of one camera set: grid [V, 1, N, 2] float32 for grid_sample and visible [V, N] bool (in
// front of the source and inside the image [0, W) x [0, H)).
struct LiftGrid {
  torch::Tensor grid;
  torch::Tensor visible;
};
// Throws InputError when no voxel of the grid is seen by any camera (a scene box outside every view).
LiftGrid make_lift_grid(const core::VolumeGeometry& grid, const std::vector<core::Camera>& cameras, std::int64_t stride,
                        std::int64_t feature_width, std::int64_t feature_height, const torch::Device& device);

// Bilinear samples of features [V, C, Hf, Wf] at the grid: [V, C, N] (zero outside the map).
torch::Tensor sample_views(const torch::Tensor& features, const LiftGrid& lift);

// Order-invariant statistics over the views that see each voxel, [2 C + 1, N]: the mean, then the standard
// deviation ("mean_std") or the `quantile` of the visible values ("mean_quantile", linear interpolation between
// order statistics), then the fraction of views that see the voxel. A voxel no view sees gets zeros.
torch::Tensor aggregate_views(const torch::Tensor& samples, const torch::Tensor& visible, const std::string& mode,
                              double quantile);

// ---- The fixed encoder (encoder.type log_bank, filter_bank.cpp) ----

// Per view, the Gaussian sigma in pixels of each diameter at the depth of `centre_mm`:
// d / (2 sqrt 2) x fx / depth (at least 0.5 px).
std::vector<std::vector<double>> bank_sigmas_px(const std::vector<core::Camera>& cameras,
                                                const std::vector<double>& diameters_mm,
                                                const Eigen::Vector3d& centre_mm);
// The scale-normalised -sigma^2 LoG kernel, (2 ceil(3 sigma) + 1)^2, zero-sum (a flat image responds 0; a bright
// disk of diameter 2 sqrt 2 sigma responds most), float32.
torch::Tensor log_kernel(double sigma_px);
// A normalised Gaussian kernel of the same support, float32.
torch::Tensor gaussian_kernel(double sigma_px);
// The bank's maps of images [V, 1, H, W]: [V, lifted_channels(), H, W], each channel of each view divided by its
// standard deviation over the view (the intensity channel also centred).
torch::Tensor filter_bank(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                          const FusionConfig& config);

// ---- Targets, losses and decoding (CenterNet / CenterPoint) ----

// The targets of one case on `grid`: heatmap [D, H, W] (max over truths of a Gaussian around each truth's centre
// voxel), negative_weight [D, H, W] (0 on voxels whose cell overlaps an ignore truth's box, else 1), and per counted
// truth (not ignore, centre inside the grid) its centre voxel's linear index, offset (voxels, continuous index - centre
// voxel, in [-0.5, 0.5]) and log size (log(size mm / size_prior_mm)), in (x, y, z).
struct HeatmapTargets {
  torch::Tensor heatmap, negative_weight;
  torch::Tensor centers;   // [M] int64
  torch::Tensor offset;    // [M, 3]
  torch::Tensor log_size;  // [M, 3]
};
HeatmapTargets make_targets(const core::VolumeGeometry& grid, const std::vector<core::BoxRecord>& truths,
                            const FusionConfig& config, const torch::Device& device);

// CenterNet's penalty-reduced focal loss, summed and divided by max(1, number of positives):
//   positives (the centre voxels):  -(1 - p)^alpha log p
//   others: -negative_weight (1 - y)^beta p^alpha log(1 - p)
// logits [D, H, W] (or any shape matching the targets), computed in float32 from log-sigmoids.
torch::Tensor penalty_reduced_focal_loss(const torch::Tensor& logits, const HeatmapTargets& targets, double alpha,
                                         double beta);

// Network outputs of one case: heatmap logits [1, 1, D, H, W], offset [1, 3, D, H, W] (voxels), log size
// [1, 3, D, H, W] (log(size mm / size_prior_mm)), on `grid`.
struct FusionOutput {
  torch::Tensor heatmap, offset, log_size;
  core::VolumeGeometry grid;
};

// loss_heatmap, loss_offset, loss_size (L1 at the centre voxels, divided by max(1, objects)), each weighted by
// its config weight, and loss (their sum).
std::map<std::string, torch::Tensor> fusion_losses(const FusionOutput& output, const HeatmapTargets& targets,
                                                   const FusionConfig& config);

// Peaks of the sigmoid heatmap (equal to the max over their peak_kernel^3 neighbourhood), the best top_k scoring
// >= score_threshold, best first: world centre = grid origin + voxel_mm (index + offset), size = size_prior_mm
// exp(log size). Records are predictions with ids fusion0, fusion1, ...
std::vector<core::BoxRecord> decode(const FusionOutput& output, const FusionConfig& config);

// The sigmoid heatmap as a volume on the grid, in the world frame (probabilities in [0, 1]).
core::VolumeF heatmap_volume(const FusionOutput& output);
// The same as int16 in units of 1 / 10000 (0 .. 10000), the voxel type data::write_nrrd writes.
core::VolumeI16 probability_volume_i16(const core::VolumeF& probabilities);

// ---- The model ----

class Net3dImpl;  // the 3D CNN (model.cpp)

class FusionModelImpl : public torch::nn::Module {
 public:
  // `encoder` is the detect2d `model` schema; only its backbone and FPN are used, registered as "backbone" with
  // detect2d's parameter names, so a detect2d file's backbone.* tensors load into it. Throws ConfigError when
  // config.encoder_stride is not one of the encoder's FPN strides. With encoder.type log_bank there is no
  // backbone (a null `backbone`, nothing registered): the model's parameters are the 3D network's alone.
  FusionModelImpl(const detect2d::ModelConfig& encoder, const FusionConfig& config);

  // images [V, 1, H, W] in [0, 1] (detect2d's input), one camera per view with the images' size.
  FusionOutput forward(const torch::Tensor& images, const std::vector<core::Camera>& cameras);
  // Training forward on a crop of the grid (config.crop_voxels, 0: the whole grid, as forward): the output's grid
  // is the crop's geometry, so losses(output, truths) makes the crop's targets.
  FusionOutput forward_crop(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                            const std::vector<core::BoxRecord>& truths);
  // The training forward of several cases in one pass of the 3D network: each case's crop drawn as forward_crop
  // draws it, in order (a seeded run crops the same cubes), one output per case on its crop's grid. Equal to
  // forward_crop per case (every layer is per sample); faster on the CPU, where torch runs batched 3D convolutions
  // through oneDNN (a lone CPU crop runs beside a detached copy of itself for that reason, its outputs dropped).
  // Crops must have one size (they do: one grid, one crop_voxels).
  struct CropCase {
    torch::Tensor images;
    std::vector<core::Camera> cameras;
    std::vector<core::BoxRecord> truths;
  };
  std::vector<FusionOutput> forward_crops(const std::vector<CropCase>& cases);
  // The per-view maps that are lifted: [V, lifted_channels(), H / s, W / s].
  torch::Tensor encode(const torch::Tensor& images, const std::vector<core::Camera>& cameras);
  // Lifting + aggregation of encoded views: [1, 2 C + 1, D, H, W].
  torch::Tensor lift(const torch::Tensor& features, const std::vector<core::Camera>& cameras);

  std::map<std::string, torch::Tensor> losses(const FusionOutput& output,
                                              const std::vector<core::BoxRecord>& truths) const;
  std::vector<core::BoxRecord> decode(const FusionOutput& output) const;

  const FusionConfig& config() const { return config_; }
  const detect2d::ModelConfig& encoder_config() const { return encoder_; }
  const core::VolumeGeometry& grid() const { return grid_; }
  // Camera sets whose sampling grids are cached (most recent first, at most kCachedCameraSets).
  std::size_t cached_camera_sets() const;
  static constexpr std::size_t kCachedCameraSets = 16;
  // Cases whose lifted features are cached (fixed encoder, training mode, encoder.cache_mb > 0), and their MB.
  std::size_t cached_lifted_cases() const;
  double cached_lifted_mb() const;

  detect2d::Backbone backbone{nullptr};

 private:
  LiftGrid cached_lift_grid(const std::vector<core::Camera>& cameras, std::int64_t feature_width,
                            std::int64_t feature_height, const torch::Device& device);

  detect2d::ModelConfig encoder_;
  FusionConfig config_;
  core::VolumeGeometry grid_;
  std::size_t level_ = 0;  // the FPN level of config.encoder_stride
  torch::nn::Conv2d reduce_{nullptr};
  std::shared_ptr<Net3dImpl> net_;
  torch::nn::Sequential head_heatmap_{nullptr}, head_offset_{nullptr}, head_size_{nullptr};

  // The lifted input of a case: with a fixed encoder it depends only on the images and cameras, so in training it
  // is computed once per case (key: the bytes of both) and kept while encoder.cache_mb allows.
  torch::Tensor lifted_input(const torch::Tensor& images, const std::vector<core::Camera>& cameras);
  void check_inputs(const torch::Tensor& images, const std::vector<core::Camera>& cameras) const;
  FusionOutput heads(const torch::Tensor& lifted, const core::VolumeGeometry& grid);
  struct Crop {
    torch::Tensor input;  // [1, C, d, h, w]
    core::VolumeGeometry grid;
  };
  Crop draw_crop(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                 const std::vector<core::BoxRecord>& truths);
  std::string camera_key(const std::vector<core::Camera>& cameras) const;

  mutable std::mutex cache_mutex_;
  std::list<std::pair<std::string, LiftGrid>> cache_;  // LRU, most recent first
  std::map<std::string, torch::Tensor> lifted_cache_;
  double lifted_cache_bytes_ = 0;
};
TORCH_MODULE(FusionModel);

// The fused candidates of one case, for methods that start from them (mv2d's proposal source "fusion",
// docs/detect3d.md "Proposal sources"): the model's decoded boxes (best first; the config's decode top_k and
// score threshold), computed in eval mode without gradient (the model's training mode is restored after). With
// `evidence`, also the model's heatmap (heatmap_volume): the 3D evidence of a method that starts from the candidates.
std::vector<core::BoxRecord> fused_candidates(FusionModel& model, const torch::Tensor& images,
                                              const std::vector<core::Camera>& cameras,
                                              core::VolumeF* evidence = nullptr);

}  // namespace xraylift::detect3d::fusion
