// FusionModel: the encoder (detect2d's backbone + FPN), the cached lifting, the 3D CNN and its heads
// (docs/detect3d.md "fusion").
#include <algorithm>
#include <cmath>
#include <cstring>

#include "xraylift/core/error.hpp"
#include "xraylift/detect3d/fusion/model.hpp"

namespace xraylift::detect3d::fusion {
namespace {

torch::nn::Conv3d conv3d(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, bool bias) {
  torch::nn::Conv3d m(torch::nn::Conv3dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(bias));
  torch::nn::init::kaiming_normal_(m->weight, 0.0, torch::kFanOut, torch::kReLU);
  if (bias) torch::nn::init::zeros_(m->bias);
  return m;
}

torch::nn::Sequential conv_norm_relu(std::int64_t in, std::int64_t out, std::int64_t stride, int groups) {
  return torch::nn::Sequential(conv3d(in, out, 3, stride, false), torch::nn::GroupNorm(groups, out), torch::nn::ReLU());
}

// A basic residual block: conv-GN-ReLU-conv-GN plus the identity, then ReLU.
class ResBlock3dImpl : public torch::nn::Module {
 public:
  ResBlock3dImpl(std::int64_t channels, int groups) {
    conv1 = register_module("conv1", conv3d(channels, channels, 3, 1, false));
    norm1 = register_module("norm1", torch::nn::GroupNorm(groups, channels));
    conv2 = register_module("conv2", conv3d(channels, channels, 3, 1, false));
    norm2 = register_module("norm2", torch::nn::GroupNorm(groups, channels));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto y = norm2(conv2(torch::relu(norm1(conv1(x)))));
    return torch::relu(x + y);
  }
  torch::nn::Conv3d conv1{nullptr}, conv2{nullptr};
  torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
};
TORCH_MODULE(ResBlock3d);

torch::nn::Sequential head(std::int64_t channels, std::int64_t outputs) {
  return torch::nn::Sequential(conv3d(channels, channels, 3, 1, true), torch::nn::ReLU(),
                               conv3d(channels, outputs, 1, 1, true));
}

}  // namespace

// Stem, residual blocks at full resolution and, with two scales, a stride-2 stage of twice the channels whose
// output is upsampled (trilinear) to the full grid, projected back and added: context for large nodules.
class Net3dImpl : public torch::nn::Module {
 public:
  Net3dImpl(const FusionConfig& c) : scales_(c.scales) {
    stem = register_module("stem", conv_norm_relu(c.input_channels(), c.channels, 1, c.groups));
    fine = register_module("fine", torch::nn::Sequential());
    for (int b = 0; b < c.blocks; ++b) fine->push_back(ResBlock3d(c.channels, c.groups));
    if (c.scales == 2) {
      coarse = register_module("coarse", conv_norm_relu(c.channels, 2 * c.channels, 2, c.groups));
      for (int b = 0; b < c.blocks; ++b) coarse->push_back(ResBlock3d(2 * c.channels, c.groups));
      up = register_module("up", conv3d(2 * c.channels, c.channels, 1, 1, true));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = stem->forward(x);
    if (!fine->is_empty()) y = fine->forward(y);
    if (scales_ == 2) {
      namespace F = torch::nn::functional;
      const auto z =
          F::interpolate(coarse->forward(y), F::InterpolateFuncOptions()
                                                 .size(std::vector<std::int64_t>{y.size(2), y.size(3), y.size(4)})
                                                 .mode(torch::kTrilinear)
                                                 .align_corners(false));
      y = torch::relu(y + up(z));
    }
    return y;
  }
  torch::nn::Sequential stem{nullptr}, fine{nullptr}, coarse{nullptr};
  torch::nn::Conv3d up{nullptr};

 private:
  int scales_;
};

FusionModelImpl::FusionModelImpl(const detect2d::ModelConfig& encoder, const FusionConfig& config)
    : encoder_(encoder), config_(config) {
  encoder_.validate();
  config_.validate();
  grid_ = fusion_grid(config_);
  const auto strides = encoder_.strides();
  std::string available;
  bool found = false;
  for (std::size_t i = 0; i < strides.size(); ++i) {
    available += core::cat(i ? ", " : "", strides[i]);
    if (strides[i] == config_.encoder_stride && !found) {
      level_ = i;
      found = true;
    }
  }
  if (!found && !config_.fixed_encoder())
    throw core::ConfigError(core::cat("detect3d.fusion.encoder.stride is ", config_.encoder_stride,
                                      "; expected one of the encoder's FPN strides (", available, ")"));
  if (!config_.fixed_encoder()) {
    backbone = register_module("backbone", detect2d::Backbone(encoder_));
    reduce_ = register_module(
        "lift_reduce", torch::nn::Conv2d(torch::nn::Conv2dOptions(encoder_.fpn_channels, config_.lift_channels, 1)));
  }
  net_ = register_module("net", std::make_shared<Net3dImpl>(config_));
  head_heatmap_ = register_module("head_heatmap", head(config_.channels, 1));
  head_offset_ = register_module("head_offset", head(config_.channels, 3));
  head_size_ = register_module("head_size", head(config_.channels, 3));
  // The heatmap starts at heatmap_prior everywhere (CenterNet's -2.19 for 0.1; RetinaNet's prior), the regression
  // heads near zero: the centre voxel and size_prior_mm.
  torch::NoGradGuard no_grad;
  auto last = [](torch::nn::Sequential& s) {
    return std::dynamic_pointer_cast<torch::nn::Conv3dImpl>(s->ptr(s->size() - 1));
  };
  // RetinaNet's init of the classification layer (weights N(0, 0.01)): with kaiming weights the initial logits
  // spread by several units, thousands of background voxels start near p = 1 and the first focal loss is ~1e4.
  torch::nn::init::normal_(last(head_heatmap_)->weight, 0.0, 0.01);
  last(head_heatmap_)->bias.fill_(-std::log((1.0 - config_.heatmap_prior) / config_.heatmap_prior));
  for (auto* h : {&head_offset_, &head_size_}) {
    torch::nn::init::normal_(last(*h)->weight, 0.0, 1e-3);
    torch::nn::init::zeros_(last(*h)->bias);
  }
}

torch::Tensor FusionModelImpl::encode(const torch::Tensor& images, const std::vector<core::Camera>& cameras) {
  XL_CHECK(images.defined() && images.dim() == 4 && (images.size(1) == 1 || images.size(1) == encoder_.in_channels),
           "fusion: images must be [V, 1, H, W], got ", images.defined() ? images.sizes() : torch::IntArrayRef{});
  if (config_.fixed_encoder()) return filter_bank(images.narrow(1, 0, 1), cameras, config_);
  const std::int64_t coarsest = encoder_.strides().back();
  XL_CHECK(images.size(2) >= coarsest && images.size(3) >= coarsest, "fusion: images of ", images.size(2), " x ",
           images.size(3), " are smaller than the encoder's coarsest stride ", coarsest);
  // detect2d's input normalisation (docs/detect2d.md "Conventions"): (x - mean) / std, gray replicated to RGB.
  auto x = (images.to(torch::kFloat32) - encoder_.image_mean) / encoder_.image_std;
  if (x.size(1) != encoder_.in_channels) x = x.expand({-1, encoder_.in_channels, -1, -1});
  const auto levels = backbone->forward(x);
  return reduce_->forward(levels.at(level_));
}

std::string FusionModelImpl::camera_key(const std::vector<core::Camera>& cameras) const {
  std::string key;
  for (const auto& camera : cameras) {
    const Eigen::Matrix<double, 3, 4> p = camera.projection();
    const int image[2] = {camera.width(), camera.height()};
    key.append(reinterpret_cast<const char*>(p.data()), sizeof(double) * 12);
    key.append(reinterpret_cast<const char*>(image), sizeof(image));
  }
  return key;
}

LiftGrid FusionModelImpl::cached_lift_grid(const std::vector<core::Camera>& cameras, std::int64_t feature_width,
                                           std::int64_t feature_height, const torch::Device& device) {
  // The key is the exact bytes of what the grid depends on: a jittered rig is another camera set.
  std::string key = device.str();
  const std::int64_t sizes[3] = {feature_width, feature_height, config_.lifted_stride()};
  key.append(reinterpret_cast<const char*>(sizes), sizeof(sizes));
  key += camera_key(cameras);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->first != key) continue;
    cache_.splice(cache_.begin(), cache_, it);
    return cache_.front().second;
  }
  cache_.emplace_front(key,
                       make_lift_grid(grid_, cameras, config_.lifted_stride(), feature_width, feature_height, device));
  if (cache_.size() > kCachedCameraSets) cache_.pop_back();
  return cache_.front().second;
}

std::size_t FusionModelImpl::cached_camera_sets() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return cache_.size();
}

torch::Tensor FusionModelImpl::lift(const torch::Tensor& features, const std::vector<core::Camera>& cameras) {
  XL_CHECK(features.defined() && features.dim() == 4 && features.size(0) == static_cast<std::int64_t>(cameras.size()),
           "fusion: features ", features.defined() ? features.sizes() : torch::IntArrayRef{}, " for ", cameras.size(),
           " cameras (expected [V, C, H, W])");
  const LiftGrid lift = cached_lift_grid(cameras, features.size(3), features.size(2), features.device());
  const auto aggregated =
      aggregate_views(sample_views(features, lift), lift.visible, config_.aggregation, config_.quantile);
  return aggregated.reshape({1, aggregated.size(0), grid_.dims.z(), grid_.dims.y(), grid_.dims.x()});
}

torch::Tensor FusionModelImpl::lifted_input(const torch::Tensor& images, const std::vector<core::Camera>& cameras) {
  if (!config_.fixed_encoder()) return lift(encode(images, cameras), cameras);
  torch::NoGradGuard no_grad;  // fixed filters: nothing before the 3D network learns
  const bool caching = is_training() && config_.bank_cache_mb > 0;
  if (!caching) return lift(encode(images, cameras), cameras);
  const auto cpu = images.to(torch::kCPU, torch::kFloat32).contiguous();
  std::string key = images.device().str() + camera_key(cameras);
  key.append(reinterpret_cast<const char*>(cpu.data_ptr<float>()), cpu.numel() * sizeof(float));
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = lifted_cache_.find(key);
    if (it != lifted_cache_.end()) return it->second;
  }
  auto lifted = lift(encode(images, cameras), cameras);
  const double bytes = static_cast<double>(lifted.numel()) * lifted.element_size();
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (lifted_cache_bytes_ + bytes <= config_.bank_cache_mb * 1024.0 * 1024.0) {
    lifted_cache_.emplace(std::move(key), lifted);
    lifted_cache_bytes_ += bytes;
  }
  return lifted;
}

std::size_t FusionModelImpl::cached_lifted_cases() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return lifted_cache_.size();
}

double FusionModelImpl::cached_lifted_mb() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return lifted_cache_bytes_ / (1024.0 * 1024.0);
}

void FusionModelImpl::check_inputs(const torch::Tensor& images, const std::vector<core::Camera>& cameras) const {
  XL_CHECK(images.defined() && images.dim() == 4 && images.size(0) == static_cast<std::int64_t>(cameras.size()) &&
               !cameras.empty(),
           "fusion: images ", images.defined() ? images.sizes() : torch::IntArrayRef{}, " for ", cameras.size(),
           " cameras (expected [V, 1, H, W] with V >= 1)");
  for (std::size_t v = 0; v < cameras.size(); ++v)
    XL_CHECK(cameras[v].width() == images.size(3) && cameras[v].height() == images.size(2), "fusion: view ", v, " ('",
             cameras[v].name(), "') camera is ", cameras[v].width(), " x ", cameras[v].height(),
             " px but its image is ", images.size(3), " x ", images.size(2));
  check_memory(config_, static_cast<int>(cameras.size()), static_cast<int>(images.size(3)),
               static_cast<int>(images.size(2)), is_training(), "fusion");
}

FusionOutput FusionModelImpl::heads(const torch::Tensor& lifted, const core::VolumeGeometry& grid) {
  const auto features = net_->forward(lifted);
  FusionOutput out;
  out.heatmap = head_heatmap_->forward(features);
  out.offset = head_offset_->forward(features);
  out.log_size = head_size_->forward(features);
  out.grid = grid;
  return out;
}

FusionOutput FusionModelImpl::forward(const torch::Tensor& images, const std::vector<core::Camera>& cameras) {
  check_inputs(images, cameras);
  return heads(lifted_input(images, cameras), grid_);
}

FusionModelImpl::Crop FusionModelImpl::draw_crop(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                                                 const std::vector<core::BoxRecord>& truths) {
  check_inputs(images, cameras);
  const auto lifted = lifted_input(images, cameras);
  if (config_.crop_voxels <= 0) return {lifted, grid_};
  // Draws from torch's generator, so a seeded run crops the same cubes.
  auto uniform = [] { return torch::rand({1}, torch::kFloat64).item<double>(); };
  const Eigen::Vector3i dims = grid_.dims;
  Eigen::Vector3i size;
  for (int a = 0; a < 3; ++a) size[a] = std::min(config_.crop_voxels, dims[a]);
  std::vector<Eigen::Vector3d> centres;  // counted truths inside the grid, continuous voxel index
  for (const auto& t : truths) {
    if (t.ignore) continue;
    const Eigen::Vector3d index = (t.box.center - grid_.origin).cwiseQuotient(grid_.spacing);
    if ((index.array() >= -0.5).all() && (index.array() <= dims.cast<double>().array() - 0.5).all())
      centres.push_back(index);
  }
  Eigen::Vector3d centre;
  const bool positive = !centres.empty() && uniform() < config_.crop_positive_fraction;
  const std::size_t pick =
      centres.empty() ? 0 : std::min(centres.size() - 1, static_cast<std::size_t>(uniform() * centres.size()));
  for (int a = 0; a < 3; ++a) {
    if (positive)
      centre[a] = centres[pick][a] + (uniform() - 0.5) * 0.5 * size[a];
    else
      centre[a] = uniform() * dims[a];
  }
  Eigen::Vector3i start;
  for (int a = 0; a < 3; ++a)
    start[a] = std::clamp(static_cast<int>(std::lround(centre[a] - 0.5 * size[a])), 0, dims[a] - size[a]);
  // [1, C, D, H, W] = [.., z, y, x]
  const auto crop = lifted.narrow(2, start.z(), size.z()).narrow(3, start.y(), size.y()).narrow(4, start.x(), size.x());
  core::VolumeGeometry g = grid_;
  g.dims = size;
  g.origin = grid_.origin + grid_.spacing.cwiseProduct(start.cast<double>());
  return {crop.contiguous(), g};
}

FusionOutput FusionModelImpl::forward_crop(const torch::Tensor& images, const std::vector<core::Camera>& cameras,
                                           const std::vector<core::BoxRecord>& truths) {
  const Crop crop = draw_crop(images, cameras, truths);
  return heads(crop.input, crop.grid);
}

std::vector<FusionOutput> FusionModelImpl::forward_crops(const std::vector<CropCase>& cases) {
  XL_CHECK(!cases.empty(), "fusion: forward_crops of no case; expected at least one");
  std::vector<Crop> crops;
  for (const auto& c : cases) crops.push_back(draw_crop(c.images, c.cameras, c.truths));
  std::vector<torch::Tensor> inputs;
  for (const auto& crop : crops) {
    XL_CHECK(crop.input.sizes() == crops.front().input.sizes(), "fusion: crops of ", crop.input.sizes(), " and ",
             crops.front().input.sizes(), " in one batch; expected one size (the config's crop of one grid)");
    inputs.push_back(crop.input);
  }
  // One pass over the stacked crops: every layer of the network is per sample (GroupNorm normalises each sample),
  // so this equals a pass per case, and on the CPU torch runs a batch of 3D convolutions through oneDNN while a
  // single small one takes its slow reference path (docs/detect3d.md "fusion", training on crops). For the same
  // reason a lone crop (not a whole grid, whose large layers take oneDNN anyway) on the CPU goes through beside a
  // detached copy of itself whose outputs are dropped: two crops by oneDNN cost less than one by the reference path,
  // and the crop's outputs and gradients are its own.
  torch::Tensor input = inputs.size() == 1 ? inputs.front() : torch::cat(inputs, 0);
  const bool lone_cpu_crop = inputs.size() == 1 && input.device().is_cpu() && config_.crop_voxels > 0;
  if (lone_cpu_crop) input = torch::cat({input, input.detach()}, 0);
  const FusionOutput all = heads(input, crops.front().grid);
  std::vector<FusionOutput> out;
  for (std::size_t b = 0; b < crops.size(); ++b) {
    const auto i = static_cast<std::int64_t>(b);
    out.push_back(
        {all.heatmap.narrow(0, i, 1), all.offset.narrow(0, i, 1), all.log_size.narrow(0, i, 1), crops[b].grid});
  }
  return out;
}

std::map<std::string, torch::Tensor> FusionModelImpl::losses(const FusionOutput& output,
                                                             const std::vector<core::BoxRecord>& truths) const {
  return fusion_losses(output, make_targets(output.grid, truths, config_, output.heatmap.device()), config_);
}

std::vector<core::BoxRecord> FusionModelImpl::decode(const FusionOutput& output) const {
  return fusion::decode(output, config_);
}

}  // namespace xraylift::detect3d::fusion
