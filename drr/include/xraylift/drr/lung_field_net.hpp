#pragma once
// The learned lung fields (docs/drr.md "Lung fields by a network", issue #22 part 2): a small U-Net per view that
// maps the physical rule's own inputs to the lung field, trained on DRRs whose labels are the projected CT lung
// masks (projected_lung_fields). Its inputs are scale-free per-pixel maps that any view set has, rendered or
// imported: the line integral in water-equivalent path (L / mu_water / 300 mm), the body path length T (/ 300 mm,
// from the body hull of lungs_from_images), the relative deficit (T - L / mu_water) / T (what the classical rule
// thresholds) and the body field; so the network refines the rule where it fails (behind the heart and the domes,
// where the lung path is short) with the context of the whole view. The views are area-resampled to input_px for the
// network and the output probability is resampled back to the view (bilinear); a field is the probability > 0.5
// inside the body field, then the rule's component and hole clean-up (lung_field.hpp step 4).
// The torch side is private (drr/torch/lung_field_net.cpp); this header needs no torch.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xraylift/drr/lung_fields.hpp"
#include "xraylift/drr/visual_hull.hpp"

namespace xraylift::drr {

inline constexpr int kLungFieldNetInputs = 4;  // channels: water path, body path, relative deficit, body field

struct LungFieldNetSpec {
  int channels = 6;       // first level's channels, doubled per level
  int levels = 3;         // resolutions (2 .. 5); the input side must be divisible by 2^(levels - 1)
  int input_px = 128;     // the network's square input (views are resampled to it)
  void validate() const;  // ConfigError naming the field
};

// One view's network inputs ([kLungFieldNetInputs, px, px], channel-major) and, for training, its label (the area
// fraction of the projected CT lung field per network pixel, [px, px]; empty at inference).
struct LungFieldSample {
  std::string id;  // <case>/<view>
  int px = 0;
  std::vector<float> inputs;
  std::vector<float> label;
};

// The inputs of view `v` of a fit (its line integrals, body field and body path, lungs_from_images). InputError for
// a view index out of range or a fit without line integrals.
LungFieldSample lung_field_inputs(const ViewsLungs& views, std::size_t v, int px);
// The training samples of a fit, one per view, with the labels `labels` (one per view, the views' sizes).
std::vector<LungFieldSample> lung_field_samples(const ViewsLungs& views, const std::vector<Mask2D>& labels, int px);

struct LungFieldTrainOptions {
  int iterations = 1500;
  int batch = 8;
  double learning_rate = 3e-3;  // Adam; cosine decay to 5 % over the iterations
  double dice_weight = 1.0;     // loss = BCE + dice_weight (1 - soft Dice)
  bool flip = true;             // random left-right mirror of a sample (a mirrored patient is a patient)
  std::uint64_t seed = 1;
  int threads = 0;                                               // torch intra-op threads; 0: leave torch's setting
  std::function<void(int iteration, double loss)> on_iteration;  // after every step (a progress bar)
  void validate() const;
};

struct LungFieldTrainReport {
  std::vector<double> loss;  // per 100 iterations (mean loss of those iterations)
  double seconds = 0;
};

class LungFieldNet {
 public:
  LungFieldNet();
  ~LungFieldNet();
  LungFieldNet(LungFieldNet&&) noexcept;
  LungFieldNet& operator=(LungFieldNet&&) noexcept;
  const LungFieldNetSpec& spec() const;
  std::int64_t parameters() const;
  // safetensors (F16 tensors: the file stays small; training and inference are F32), __metadata__ format
  // "xraylift.lung_field_net" and the spec.
  void save(const std::filesystem::path& path, const std::string& provenance = "") const;
  // InputError naming the file for a missing file, another format or tensors that do not match the spec.
  static LungFieldNet load(const std::filesystem::path& path);
  // The lung probability per network pixel ([px, px]) of one sample (its inputs at spec().input_px).
  std::vector<float> probability(const LungFieldSample& sample) const;

  struct Impl;  // drr/torch/lung_field_net.cpp
  explicit LungFieldNet(std::unique_ptr<Impl> impl);
  Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// InputError without samples or with samples of another size than spec.input_px.
LungFieldNet train_lung_field_net(const std::vector<LungFieldSample>& samples, const LungFieldNetSpec& spec,
                                  const LungFieldTrainOptions& options, LungFieldTrainReport* report = nullptr);

// The network's lung field of every view of a fit (the views' sizes), cleaned up as the rule's (max_components,
// min_component_fraction and close_px of `options`).
std::vector<Mask2D> net_lung_fields(const LungFieldNet& net, const ViewsLungs& views,
                                    const LungFieldOptions& options = {});

// The lung fields that measured best (docs/viz.md "Lung model from the views"): "rule" (lung_fields.hpp) or "net".
// The network's: as the support of the lung tomography (its fields contain the silhouettes; the rule's miss lung
// behind the heart and the domes), although its hull alone over-fills (docs/viz.md).
inline constexpr const char* kBestLungFields = "net";

// The fit with its lung fields replaced by the network's and the visual hull carved anew from them.
ViewsLungs with_net_lung_fields(const LungFieldNet& net, const ViewsLungs& views, const LungFieldOptions& fields = {},
                                const VisualHullOptions& hull = {});

}  // namespace xraylift::drr
