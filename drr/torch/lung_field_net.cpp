#include "xraylift/drr/lung_field_net.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/safetensors.hpp"
#include "xraylift/train/safetensors.hpp"

namespace fs = std::filesystem;

namespace xraylift::drr {

namespace {

constexpr const char* kFieldNetFormat = "xraylift.lung_field_net";
constexpr double kPathScaleMm = 300;  // path lengths in units of a chest's width, so the inputs are O(1)

void field_net_check(bool ok, const std::string& what) {
  if (!ok) throw core::ConfigError("lung field net: " + what);
}

torch::nn::Conv2d conv3(int in, int out) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)); }

// A U-Net (Ronneberger et al., MICCAI 2015) at its smallest: per level two 3x3 convolutions (ReLU), max-pool
// down, bilinear up, the skip concatenated, one 3x3 convolution per decoder level, a 1x1 head (the logit).
struct UNetImpl : torch::nn::Module {
  torch::nn::ModuleList down, up;
  torch::nn::Conv2d head{nullptr};
  int levels = 0;
  explicit UNetImpl(const LungFieldNetSpec& s) : levels(s.levels) {
    int in = kLungFieldNetInputs;
    for (int l = 0; l < s.levels; ++l) {
      const int c = s.channels << l;
      down->push_back(conv3(in, c));
      down->push_back(conv3(c, c));
      in = c;
    }
    for (int l = s.levels - 2; l >= 0; --l) {
      const int c = s.channels << l;
      up->push_back(conv3(in + c, c));
      in = c;
    }
    head = torch::nn::Conv2d(torch::nn::Conv2dOptions(in, 1, 1));
    register_module("down", down);
    register_module("up", up);
    register_module("head", head);
  }
  torch::Tensor forward(torch::Tensor x) {
    std::vector<torch::Tensor> skips;
    for (int l = 0; l < levels; ++l) {
      if (l > 0) x = torch::max_pool2d(x, 2);
      x = torch::relu(down[std::size_t(2 * l)]->as<torch::nn::Conv2d>()->forward(x));
      x = torch::relu(down[std::size_t(2 * l + 1)]->as<torch::nn::Conv2d>()->forward(x));
      skips.push_back(x);
    }
    for (int l = levels - 2, u = 0; l >= 0; --l, ++u) {
      const torch::Tensor& skip = skips[std::size_t(l)];
      x = torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                    .size(std::vector<std::int64_t>{skip.size(2), skip.size(3)})
                                                    .mode(torch::kBilinear)
                                                    .align_corners(false));
      x = torch::relu(up[std::size_t(u)]->as<torch::nn::Conv2d>()->forward(torch::cat({x, skip}, 1)));
    }
    return head->forward(x);
  }
};
TORCH_MODULE(UNet);

// The mean of src (w x h) over the source pixels that net pixel (i, j) of a px x px grid covers (at least one).
template <class Get>
float area_mean(int w, int h, int px, int i, int j, Get get) {
  const int c0 = int(std::floor(double(j) * w / px)), c1 = std::max(c0 + 1, int(std::floor(double(j + 1) * w / px)));
  const int r0 = int(std::floor(double(i) * h / px)), r1 = std::max(r0 + 1, int(std::floor(double(i + 1) * h / px)));
  double sum = 0;
  int n = 0;
  for (int r = r0; r < std::min(r1, h); ++r)
    for (int c = c0; c < std::min(c1, w); ++c) sum += get(std::size_t(r) * w + c), ++n;
  return n ? float(sum / n) : 0.0f;
}

torch::Tensor stack_inputs(const std::vector<LungFieldSample>& samples, int px) {
  torch::Tensor x = torch::empty({std::int64_t(samples.size()), kLungFieldNetInputs, px, px});
  for (std::size_t s = 0; s < samples.size(); ++s)
    std::memcpy(x[std::int64_t(s)].data_ptr<float>(), samples[s].inputs.data(), samples[s].inputs.size() * 4);
  return x;
}

}  // namespace

void LungFieldNetSpec::validate() const {
  field_net_check(channels >= 1 && channels <= 256, core::cat("channels ", channels, ": expected 1 .. 256"));
  field_net_check(levels >= 2 && levels <= 5, core::cat("levels ", levels, ": expected 2 .. 5"));
  field_net_check(
      input_px >= 16 && input_px <= 1024 && input_px % (1 << (levels - 1)) == 0,
      core::cat("input_px ", input_px, ": expected 16 .. 1024 and divisible by 2^(levels - 1) = ", 1 << (levels - 1)));
}

void LungFieldTrainOptions::validate() const {
  field_net_check(iterations >= 1, core::cat("iterations ", iterations, ": expected >= 1"));
  field_net_check(batch >= 1 && batch <= 4096, core::cat("batch ", batch, ": expected 1 .. 4096"));
  field_net_check(std::isfinite(learning_rate) && learning_rate > 0 && learning_rate < 1,
                  core::cat("learning_rate ", learning_rate, ": expected (0, 1)"));
  field_net_check(std::isfinite(dice_weight) && dice_weight >= 0,
                  core::cat("dice_weight ", dice_weight, ": expected >= 0"));
  field_net_check(threads >= 0, core::cat("threads ", threads, ": expected >= 0"));
}

LungFieldSample lung_field_inputs(const ViewsLungs& views, std::size_t v, int px) {
  XL_CHECK(v < views.cameras.size() && v < views.line_integrals.size() && v < views.body_path_mm.size() &&
               v < views.body_fields.size(),
           "lung field net: view ", v, " of ", views.cameras.size(), " (with ", views.line_integrals.size(),
           " line-integral images); expected a fit from lungs_from_images");
  XL_CHECK(px >= 1, "lung field net: input size ", px, "; expected >= 1");
  XL_CHECK(views.mu_water_per_mm > 0, "lung field net: mu_water ", views.mu_water_per_mm, " /mm; expected > 0");
  const int w = views.cameras[v].width(), h = views.cameras[v].height();
  const std::vector<float>& L = views.line_integrals[v];
  const std::vector<float>& T = views.body_path_mm[v];
  const Mask2D& body = views.body_fields[v];
  XL_CHECK(L.size() == std::size_t(w) * h && T.size() == L.size() && body.pixels.size() == L.size(),
           "lung field net: view ", v, " has ", L.size(), " / ", T.size(), " / ", body.pixels.size(),
           " pixels of line integrals / body path / body field for a ", w, " x ", h, " camera");
  const double mu = views.mu_water_per_mm;
  LungFieldSample s;
  s.id = core::cat(views.case_id, "/", views.cameras[v].name());
  s.px = px;
  s.inputs.resize(std::size_t(kLungFieldNetInputs) * px * px);
  const std::size_t plane = std::size_t(px) * px;
  for (int i = 0; i < px; ++i)
    for (int j = 0; j < px; ++j) {
      const std::size_t q = std::size_t(i) * px + j;
      s.inputs[q] =
          std::clamp(area_mean(w, h, px, i, j, [&](std::size_t p) { return L[p] / mu / kPathScaleMm; }), 0.0f, 2.0f);
      s.inputs[plane + q] =
          std::clamp(area_mean(w, h, px, i, j, [&](std::size_t p) { return T[p] / kPathScaleMm; }), 0.0f, 2.0f);
      s.inputs[2 * plane + q] = area_mean(w, h, px, i, j, [&](std::size_t p) {
        if (!body.pixels[p]) return 0.0;
        return std::clamp((double(T[p]) - L[p] / mu) / std::max(double(T[p]), 10.0), -1.0, 1.0);
      });
      s.inputs[3 * plane + q] = area_mean(w, h, px, i, j, [&](std::size_t p) { return double(body.pixels[p]); });
    }
  return s;
}

std::vector<LungFieldSample> lung_field_samples(const ViewsLungs& views, const std::vector<Mask2D>& labels, int px) {
  XL_CHECK(labels.size() == views.cameras.size(), "lung field net: ", labels.size(), " labels for ",
           views.cameras.size(), " views of ", views.case_id, "; expected one per view");
  std::vector<LungFieldSample> out;
  for (std::size_t v = 0; v < labels.size(); ++v) {
    LungFieldSample s = lung_field_inputs(views, v, px);
    const Mask2D& m = labels[v];
    XL_CHECK(m.width == views.cameras[v].width() && m.height == views.cameras[v].height(), "lung field net: label ", v,
             " of ", views.case_id, " is ", m.width, " x ", m.height, ", its view ", views.cameras[v].width(), " x ",
             views.cameras[v].height());
    s.label.resize(std::size_t(px) * px);
    for (int i = 0; i < px; ++i)
      for (int j = 0; j < px; ++j)
        s.label[std::size_t(i) * px + j] =
            area_mean(m.width, m.height, px, i, j, [&](std::size_t p) { return double(m.pixels[p]); });
    out.push_back(std::move(s));
  }
  return out;
}

struct LungFieldNet::Impl {
  LungFieldNetSpec spec;
  UNet net;
  explicit Impl(const LungFieldNetSpec& s) : spec(s), net(s) {}
};

LungFieldNet::LungFieldNet() : impl_(std::make_unique<Impl>(LungFieldNetSpec{})) {}
LungFieldNet::LungFieldNet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LungFieldNet::~LungFieldNet() = default;
LungFieldNet::LungFieldNet(LungFieldNet&&) noexcept = default;
LungFieldNet& LungFieldNet::operator=(LungFieldNet&&) noexcept = default;
const LungFieldNetSpec& LungFieldNet::spec() const { return impl_->spec; }

std::int64_t LungFieldNet::parameters() const {
  std::int64_t n = 0;
  for (const auto& p : impl_->net->parameters()) n += p.numel();
  return n;
}

std::vector<float> LungFieldNet::probability(const LungFieldSample& sample) const {
  const int px = impl_->spec.input_px;
  XL_CHECK(sample.px == px && sample.inputs.size() == std::size_t(kLungFieldNetInputs) * px * px,
           "lung field net: sample ", sample.id, " is ", sample.px, " px (", sample.inputs.size(),
           " values), the network takes ", px, " px x ", kLungFieldNetInputs, " channels");
  torch::NoGradGuard ng;
  const torch::Tensor p = torch::sigmoid(impl_->net->forward(stack_inputs({sample}, px))).contiguous();
  return std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
}

void LungFieldNet::save(const fs::path& path, const std::string& provenance) const {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : impl_->net->named_parameters()) tensors["net." + p.key()] = p.value().to(torch::kHalf);
  train::write_safetensors(path, tensors,
                           {{"format", kFieldNetFormat},
                            {"channels", std::to_string(impl_->spec.channels)},
                            {"levels", std::to_string(impl_->spec.levels)},
                            {"input_px", std::to_string(impl_->spec.input_px)},
                            {"provenance", provenance}});
}

LungFieldNet LungFieldNet::load(const fs::path& path) {
  XL_CHECK(fs::exists(path), "lung field net: '", path.string(), "' does not exist");
  const std::string bytes = core::read_file(path);
  XL_CHECK(core::looks_like_safetensors(bytes), "lung field net: '", path.string(),
           "' is not a safetensors file; expected models/lung_fields.safetensors (scripts/train_lung_fields.sh)");
  const auto meta = core::parse_safetensors_metadata(bytes, path.string());
  const auto format = meta.find("format");
  XL_CHECK(format != meta.end() && format->second == kFieldNetFormat, "lung field net: '", path.string(),
           "' has __metadata__.format '", format == meta.end() ? std::string("(none)") : format->second,
           "'; expected '", kFieldNetFormat, "' (another model's weights?)");
  LungFieldNetSpec spec;
  try {
    spec.channels = std::stoi(meta.at("channels")), spec.levels = std::stoi(meta.at("levels"));
    spec.input_px = std::stoi(meta.at("input_px"));
    spec.validate();
  } catch (const core::ConfigError& e) {
    throw core::InputError(core::cat("lung field net: '", path.string(), "': ", e.what()));
  } catch (const std::exception& e) {
    throw core::InputError(core::cat("lung field net: '", path.string(),
                                     "': __metadata__ channels / levels / input_px unreadable (", e.what(), ")"));
  }
  LungFieldNet m(std::make_unique<Impl>(spec));
  std::map<std::string, torch::Tensor> found = train::parse_safetensors(bytes, path.string());
  for (auto& [name, t] : found) {
    XL_CHECK(t.scalar_type() == torch::kHalf || t.scalar_type() == torch::kFloat32, "lung field net: '", path.string(),
             "': tensor ", name, " is ", t.scalar_type(), "; expected F16 or F32");
    t = t.to(torch::kFloat32);
  }
  torch::NoGradGuard ng;
  for (auto& p : m.impl().net->named_parameters()) {
    const auto it = found.find("net." + p.key());
    XL_CHECK(it != found.end(), "lung field net: '", path.string(), "' lacks tensor net.", p.key());
    XL_CHECK(it->second.sizes() == p.value().sizes(), "lung field net: '", path.string(), "': net.", p.key(), " is ",
             it->second.sizes(), ", the spec in its metadata needs ", p.value().sizes());
    p.value().copy_(it->second);
    found.erase(it);
  }
  XL_CHECK(found.empty(), "lung field net: '", path.string(),
           "' has a tensor the spec has no place for: ", found.begin()->first);
  m.impl().net->eval();
  return m;
}

LungFieldNet train_lung_field_net(const std::vector<LungFieldSample>& samples, const LungFieldNetSpec& spec,
                                  const LungFieldTrainOptions& o, LungFieldTrainReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  spec.validate();
  o.validate();
  XL_CHECK(!samples.empty(), "lung field training: no samples; expected the views of training cases");
  const int px = spec.input_px;
  for (const auto& s : samples)
    XL_CHECK(s.px == px && s.inputs.size() == std::size_t(kLungFieldNetInputs) * px * px &&
                 s.label.size() == std::size_t(px) * px,
             "lung field training: sample ", s.id, " is ", s.px, " px with ", s.label.size(),
             " label pixels; expected ", px, " px (the spec's input_px) with a label");
  if (o.threads > 0) torch::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  const torch::Tensor x = stack_inputs(samples, px);
  torch::Tensor y = torch::empty({std::int64_t(samples.size()), 1, px, px});
  for (std::size_t s = 0; s < samples.size(); ++s)
    std::memcpy(y[std::int64_t(s)].data_ptr<float>(), samples[s].label.data(), samples[s].label.size() * 4);
  LungFieldNet model(std::make_unique<LungFieldNet::Impl>(spec));
  auto& net = model.impl().net;
  net->train();
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
  const auto N = std::int64_t(samples.size());
  std::vector<double> losses;
  double window = 0;
  int in_window = 0;
  for (int it = 0; it < o.iterations; ++it) {
    const double lr = o.learning_rate * (0.05 + 0.95 * 0.5 * (1 + std::cos(M_PI * it / o.iterations)));
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
    const torch::Tensor idx = torch::randint(N, {std::min<std::int64_t>(o.batch, N)}, torch::kLong);
    torch::Tensor xb = x.index_select(0, idx), yb = y.index_select(0, idx);
    if (o.flip) {
      const torch::Tensor mirror = (torch::rand({idx.numel(), 1, 1, 1}) < 0.5).to(torch::kFloat32);
      xb = mirror * xb.flip({3}) + (1 - mirror) * xb;
      yb = mirror * yb.flip({3}) + (1 - mirror) * yb;
    }
    const torch::Tensor logit = net->forward(xb);
    const torch::Tensor p = torch::sigmoid(logit);
    const torch::Tensor bce = torch::binary_cross_entropy_with_logits(logit, yb);
    const torch::Tensor dice = 1 - (2 * (p * yb).sum() + 1) / (p.sum() + yb.sum() + 1);
    const torch::Tensor loss = bce + o.dice_weight * dice;
    opt.zero_grad();
    loss.backward();
    opt.step();
    const double value = loss.item<double>();
    window += value, ++in_window;
    if (o.on_iteration) o.on_iteration(it + 1, value);
    if (in_window == 100 || it + 1 == o.iterations) losses.push_back(window / in_window), window = 0, in_window = 0;
  }
  net->eval();
  if (report) {
    report->loss = losses;
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return model;
}

std::vector<Mask2D> net_lung_fields(const LungFieldNet& net, const ViewsLungs& views, const LungFieldOptions& o) {
  o.validate();
  const int px = net.spec().input_px;
  std::vector<Mask2D> out;
  for (std::size_t v = 0; v < views.cameras.size(); ++v) {
    const std::vector<float> prob = net.probability(lung_field_inputs(views, v, px));
    const int w = views.cameras[v].width(), h = views.cameras[v].height();
    // bilinear back to the view: net pixel centres at (j + 0.5) w / px
    const torch::Tensor up = torch::nn::functional::interpolate(
                                 torch::from_blob(const_cast<float*>(prob.data()), {1, 1, px, px}, torch::kFloat32),
                                 torch::nn::functional::InterpolateFuncOptions()
                                     .size(std::vector<std::int64_t>{h, w})
                                     .mode(torch::kBilinear)
                                     .align_corners(false))
                                 .contiguous();
    const float* pp = up.data_ptr<float>();
    Mask2D m{w, h, std::vector<std::uint8_t>(std::size_t(w) * h)};
    const Mask2D& body = views.body_fields[v];
    for (std::size_t p = 0; p < m.pixels.size(); ++p) m.pixels[p] = body.pixels[p] && pp[p] > 0.5f;
    clean_up_lung_field(m, o);
    out.push_back(std::move(m));
  }
  return out;
}

ViewsLungs with_net_lung_fields(const LungFieldNet& net, const ViewsLungs& views, const LungFieldOptions& fields,
                                const VisualHullOptions& hull) {
  const auto t0 = std::chrono::steady_clock::now();
  ViewsLungs out = views;
  out.fields = net_lung_fields(net, views, fields);
  out.lungs = carve_visual_hull(out.cameras, out.fields, hull);
  out.seconds = views.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace xraylift::drr
