#include "xraylift/drr/lung_shape.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/safetensors.hpp"
#include "xraylift/core/voxel_projection.hpp"
#include "xraylift/drr/lung_tomography.hpp"
#include "xraylift/train/safetensors.hpp"

namespace fs = std::filesystem;

namespace xraylift::drr {

namespace {

constexpr const char* kFormat = "xraylift.lung_shape";

void config_check(bool ok, const std::string& what) {
  if (!ok) throw core::ConfigError("lung shape: " + what);
}

// Exact 1-D squared distance transform (Felzenszwalb & Huttenlocher 2012) of f over n samples, stride `step`;
// "no seed" is kFar (finite, as in their reference code, so that the parabola intersections stay defined).
constexpr double kFar = 1e20;
void squared_distance_1d(double* f, int n, std::ptrdiff_t step, std::vector<double>& d, std::vector<int>& v,
                         std::vector<double>& z) {
  d.resize(std::size_t(n)), v.resize(std::size_t(n)), z.resize(std::size_t(n) + 1);
  const double inf = std::numeric_limits<double>::infinity();
  auto at = [&](int q) { return f[q * step]; };
  int k = 0;
  v[0] = 0, z[0] = -inf, z[1] = inf;
  for (int q = 1; q < n; ++q) {
    double s = ((at(q) + double(q) * q) - (at(v[k]) + double(v[k]) * v[k])) / (2.0 * (q - v[k]));
    while (s <= z[k]) {
      --k;
      s = ((at(q) + double(q) * q) - (at(v[k]) + double(v[k]) * v[k])) / (2.0 * (q - v[k]));
    }
    ++k, v[k] = q, z[k] = s, z[k + 1] = inf;
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < q) ++k;
    d[q] = double(q - v[k]) * (q - v[k]) + at(v[k]);
  }
  for (int q = 0; q < n; ++q) f[q * step] = d[q];
}

// Squared Euclidean distance (in lattice cells) of every cell of a g^3 lattice to the nearest cell where `seed`.
std::vector<double> squared_distance_3d(const std::vector<std::uint8_t>& seed, int g) {
  std::vector<double> f(seed.size());
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = seed[i] ? 0.0 : kFar;
  std::vector<double> d, z;
  std::vector<int> v;
  const std::ptrdiff_t sx = 1, sy = g, sz = std::ptrdiff_t(g) * g;
  for (int k = 0; k < g; ++k)
    for (int j = 0; j < g; ++j) squared_distance_1d(&f[k * sz + j * sy], g, sx, d, v, z);
  for (int k = 0; k < g; ++k)
    for (int i = 0; i < g; ++i) squared_distance_1d(&f[k * sz + i], g, sy, d, v, z);
  for (int j = 0; j < g; ++j)
    for (int i = 0; i < g; ++i) squared_distance_1d(&f[j * sy + i], g, sz, d, v, z);
  return f;
}

// Signed distance (cells) of a binary lattice: outside the distance to the nearest inside cell, inside minus the
// distance to the nearest outside cell, each less half a cell so that the zero level lies on the cell faces.
std::vector<float> signed_distance(const std::vector<std::uint8_t>& inside, int g) {
  std::vector<std::uint8_t> outside(inside.size());
  for (std::size_t i = 0; i < inside.size(); ++i) outside[i] = !inside[i];
  const std::vector<double> to_inside = squared_distance_3d(inside, g), to_outside = squared_distance_3d(outside, g);
  std::vector<float> s(inside.size());
  const double far = 2.0 * g;
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = float(inside[i] ? -(std::min(far, std::sqrt(to_outside[i])) - 0.5)
                           : std::min(far, std::sqrt(to_inside[i])) - 0.5);
  return s;
}

struct BoxOfLungs {
  Eigen::Vector3d lo, hi;
  std::int64_t voxels = 0;
};

BoxOfLungs lung_box(const core::VolumeU8& labels) {
  BoxOfLungs b;
  b.lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity());
  b.hi = -b.lo;
  const core::VolumeGeometry& g = labels.geometry();
  const auto& val = labels.values();
  for (std::int64_t i = 0; i < g.voxel_count(); ++i) {
    if (!val[std::size_t(i)]) continue;
    const Eigen::Vector3d x = core::voxel_centre(g, i);
    b.lo = b.lo.cwiseMin(x - 0.5 * g.spacing), b.hi = b.hi.cwiseMax(x + 0.5 * g.spacing);
    ++b.voxels;
  }
  return b;
}

std::uint8_t label_at(const core::VolumeU8& labels, const Eigen::Vector3d& world) {
  const Eigen::Vector3d idx = labels.world_to_index(world);
  const Eigen::Vector3i d = labels.dims();
  const int i = int(std::lround(idx.x())), j = int(std::lround(idx.y())), k = int(std::lround(idx.z()));
  if (i < 0 || j < 0 || k < 0 || i >= d.x() || j >= d.y() || k >= d.z()) return 0;
  return labels.values()[(std::size_t(k) * d.y() + j) * d.x() + i];
}

// The auto-decoder: (code, canonical xyz) -> (sdf_right, sdf_left), ReLU MLP.
struct SdfNetImpl : torch::nn::Module {
  torch::nn::ModuleList layers;
  explicit SdfNetImpl(const LungShapeSpec& s) {
    int in = s.latent + 3;
    for (int l = 0; l < s.layers; ++l) {
      layers->push_back(torch::nn::Linear(in, s.width));
      in = s.width;
    }
    layers->push_back(torch::nn::Linear(in, 2));
    register_module("layers", layers);
  }
  // codes [n, latent] (or [1, latent], broadcast), points [n, 3]
  torch::Tensor forward(const torch::Tensor& codes, const torch::Tensor& points) {
    torch::Tensor x = torch::cat({codes.expand({points.size(0), codes.size(1)}), points}, 1);
    const std::size_t n = layers->size();
    for (std::size_t l = 0; l < n; ++l) {
      x = layers[l]->as<torch::nn::Linear>()->forward(x);
      if (l + 1 < n) x = torch::relu(x);
    }
    return x;
  }
};
TORCH_MODULE(SdfNet);

}  // namespace

void LungShapeSpec::validate() const {
  config_check(latent >= 1 && latent <= 512, core::cat("latent ", latent, ": expected 1 .. 512"));
  config_check(width >= 4 && width <= 2048, core::cat("width ", width, ": expected 4 .. 2048"));
  config_check(layers >= 1 && layers <= 16, core::cat("layers ", layers, ": expected 1 .. 16"));
  config_check(std::isfinite(sdf_clamp) && sdf_clamp > 0 && sdf_clamp <= 1,
               core::cat("sdf_clamp ", sdf_clamp, ": expected (0, 1]"));
}

void LungShapeTrainOptions::validate() const {
  config_check(iterations >= 1, core::cat("iterations ", iterations, ": expected >= 1"));
  config_check(shapes_per_batch >= 1, core::cat("shapes_per_batch ", shapes_per_batch, ": expected >= 1"));
  config_check(points_per_shape >= 2, core::cat("points_per_shape ", points_per_shape, ": expected >= 2"));
  config_check(learning_rate > 0 && code_learning_rate > 0, "learning rates: expected > 0");
  config_check(code_prior >= 0 && code_init_std >= 0, "code_prior, code_init_std: expected >= 0");
}

void LungShapeFitOptions::validate() const {
  config_check(iterations >= 0, core::cat("iterations ", iterations, ": expected >= 0"));
  config_check(grid_mm >= 1 && grid_mm <= 50, core::cat("grid_mm ", grid_mm, ": expected 1 .. 50"));
  config_check(margin >= 0 && margin <= 2, core::cat("margin ", margin, ": expected 0 .. 2"));
  config_check(field_px >= 8 && field_px <= 4096, core::cat("field_px ", field_px, ": expected 8 .. 4096"));
  config_check(tau > 0 && tau < 1, core::cat("tau ", tau, ": expected (0, 1)"));
  config_check(learning_rate > 0 && pose_learning_rate >= 0, "learning rates: expected > 0");
  config_check(code_prior >= 0, core::cat("code_prior ", code_prior, ": expected >= 0"));
  config_check(sdf_mm >= 0.5 && sdf_mm <= 50, core::cat("sdf_mm ", sdf_mm, ": expected 0.5 .. 50"));
  config_check(output_mm >= 0.5 && output_mm <= 20, core::cat("output_mm ", output_mm, ": expected 0.5 .. 20"));
}

LungShapeSamples lung_shape_samples(const core::VolumeU8& labels, const std::string& id, int grid, double box) {
  XL_CHECK(grid >= 4 && grid <= 256, "lung shape samples of ", id, ": grid ", grid, ", expected 4 .. 256");
  XL_CHECK(box >= 1 && box <= 4, "lung shape samples of ", id, ": box ", box, ", expected 1 .. 4");
  XL_CHECK(data::label_volume_ml(labels, data::kRightLung) > 0 && data::label_volume_ml(labels, data::kLeftLung) > 0,
           "lung shape samples of ", id, ": the mask lacks the right (1) or the left (2) lung; expected both");
  const BoxOfLungs b = lung_box(labels);
  LungShapeSamples s;
  s.id = id, s.grid = grid, s.box = box;
  s.centre = 0.5 * (b.lo + b.hi), s.half_extent = 0.5 * (b.hi - b.lo);
  const std::size_t n = std::size_t(grid) * grid * grid;
  std::vector<std::uint8_t> right(n), left(n);
  const double cell = 2 * box / grid;
  for (int k = 0; k < grid; ++k)
    for (int j = 0; j < grid; ++j)
      for (int i = 0; i < grid; ++i) {
        const Eigen::Vector3d c(-box + (i + 0.5) * cell, -box + (j + 0.5) * cell, -box + (k + 0.5) * cell);
        const std::uint8_t l = label_at(labels, s.centre + c.cwiseProduct(s.half_extent));
        const std::size_t p = (std::size_t(k) * grid + j) * grid + i;
        right[p] = l == data::kRightLung, left[p] = l == data::kLeftLung;
      }
  s.sdf_right = signed_distance(right, grid), s.sdf_left = signed_distance(left, grid);
  for (auto* v : {&s.sdf_right, &s.sdf_left})
    for (float& x : *v) x *= float(cell);
  return s;
}

struct LungShapeModel::Impl {
  LungShapeSpec spec;
  SdfNet net{nullptr};
  torch::Tensor codes;  // [shapes, latent]
  explicit Impl(const LungShapeSpec& s) : spec(s), net(s) {}
};

LungShapeModel::LungShapeModel() : impl_(std::make_unique<Impl>(LungShapeSpec{})) {
  impl_->codes = torch::zeros({0, impl_->spec.latent});
}
LungShapeModel::LungShapeModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LungShapeModel::~LungShapeModel() = default;
LungShapeModel::LungShapeModel(LungShapeModel&&) noexcept = default;
LungShapeModel& LungShapeModel::operator=(LungShapeModel&&) noexcept = default;
const LungShapeSpec& LungShapeModel::spec() const { return impl_->spec; }
int LungShapeModel::shapes() const { return int(impl_->codes.size(0)); }

std::vector<float> LungShapeModel::code(int shape) const {
  XL_CHECK(shape >= 0 && shape < shapes(), "lung shape model: shape ", shape, " of ", shapes());
  const torch::Tensor c = impl_->codes[shape].contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<float> LungShapeModel::evaluate(const std::vector<float>& points, const std::vector<float>& code) const {
  XL_CHECK(points.size() % 3 == 0, "lung shape model: ", points.size(), " point coordinates; expected n x 3");
  XL_CHECK(code.empty() || int(code.size()) == impl_->spec.latent, "lung shape model: a code of ", code.size(),
           " floats; expected ", impl_->spec.latent);
  torch::NoGradGuard ng;
  const auto n = std::int64_t(points.size() / 3);
  const torch::Tensor p = torch::from_blob(const_cast<float*>(points.data()), {n, 3}, torch::kFloat32);
  const torch::Tensor z =
      code.empty() ? torch::zeros({1, impl_->spec.latent})
                   : torch::from_blob(const_cast<float*>(code.data()), {1, std::int64_t(code.size())}, torch::kFloat32);
  const torch::Tensor out = impl_->net->forward(z, p).contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

void LungShapeModel::save(const fs::path& path, const std::string& provenance) const {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : impl_->net->named_parameters()) tensors["net." + p.key()] = p.value().to(torch::kFloat32);
  tensors["codes"] = impl_->codes.to(torch::kFloat32);
  train::write_safetensors(path, tensors,
                           {{"format", kFormat},
                            {"latent", std::to_string(impl_->spec.latent)},
                            {"width", std::to_string(impl_->spec.width)},
                            {"layers", std::to_string(impl_->spec.layers)},
                            {"sdf_clamp", core::cat(impl_->spec.sdf_clamp)},
                            {"provenance", provenance}});
}

LungShapeModel LungShapeModel::load(const fs::path& path) {
  XL_CHECK(fs::exists(path), "lung shape model: '", path.string(), "' does not exist");
  const std::string bytes = core::read_file(path);
  XL_CHECK(core::looks_like_safetensors(bytes), "lung shape model: '", path.string(),
           "' is not a safetensors file; expected models/lung_shape.safetensors (scripts/train_lung_shape.sh)");
  const auto meta = core::parse_safetensors_metadata(bytes, path.string());
  const auto format = meta.find("format");
  XL_CHECK(format != meta.end() && format->second == kFormat, "lung shape model: '", path.string(),
           "' has __metadata__.format '", format == meta.end() ? std::string("(none)") : format->second,
           "'; expected '", kFormat, "' (another model's weights?)");
  LungShapeSpec spec;
  try {
    spec.latent = std::stoi(meta.at("latent")), spec.width = std::stoi(meta.at("width"));
    spec.layers = std::stoi(meta.at("layers")), spec.sdf_clamp = std::stod(meta.at("sdf_clamp"));
  } catch (const std::exception& e) {
    throw core::InputError(core::cat("lung shape model: '", path.string(),
                                     "': __metadata__ latent / width / layers / sdf_clamp unreadable (", e.what(),
                                     ")"));
  }
  try {
    spec.validate();
  } catch (const core::ConfigError& e) {
    throw core::InputError(core::cat("lung shape model: '", path.string(), "': ", e.what()));
  }
  LungShapeModel m(std::make_unique<Impl>(spec));
  m.impl().codes = torch::zeros({0, spec.latent});
  const std::map<std::string, torch::Tensor> found = train::parse_safetensors(bytes, path.string());
  for (const auto& [name, t] : found)
    XL_CHECK(t.scalar_type() == torch::kFloat32, "lung shape model: '", path.string(), "': tensor ", name, " is ",
             t.scalar_type(), "; expected F32");
  torch::NoGradGuard ng;
  for (auto& p : m.impl().net->named_parameters()) {
    const auto it = found.find("net." + p.key());
    XL_CHECK(it != found.end(), "lung shape model: '", path.string(), "' lacks tensor net.", p.key());
    XL_CHECK(it->second.sizes() == p.value().sizes(), "lung shape model: '", path.string(), "': net.", p.key(), " is ",
             it->second.sizes(), ", the spec in its metadata needs ", p.value().sizes());
    p.value().copy_(it->second);
  }
  auto& impl = m.impl();
  const auto codes = found.find("codes");
  XL_CHECK(codes != found.end() && codes->second.dim() == 2 && codes->second.size(1) == spec.latent &&
               codes->second.size(0) >= 1,
           "lung shape model: '", path.string(), "': expected a tensor codes [shapes, ", spec.latent, "]");
  impl.codes = codes->second;
  impl.net->eval();
  return m;
}

LungShapeModel train_lung_shape(const std::vector<LungShapeSamples>& shapes, const LungShapeSpec& spec,
                                const LungShapeTrainOptions& o, LungShapeTrainReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  spec.validate();
  o.validate();
  XL_CHECK(!shapes.empty(), "lung shape training: no shapes; expected the lung masks of training cases");
  const int g = shapes.front().grid;
  const double box = shapes.front().box;
  for (const auto& s : shapes)
    XL_CHECK(s.grid == g && s.box == box && s.sdf_right.size() == std::size_t(g) * g * g &&
                 s.sdf_left.size() == s.sdf_right.size(),
             "lung shape training: shape ", s.id, " has a ", s.grid, "^3 lattice over +-", s.box, ", the first ", g,
             "^3 over +-", box, "; expected one lattice");
  if (o.threads > 0) torch::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  const auto S = std::int64_t(shapes.size());
  // [S, 2, g, g, g] (D = z, H = y, W = x) for grid_sample, which takes (x, y, z) in [-1, 1].
  torch::Tensor sdf = torch::empty({S, 2, g, g, g});
  std::vector<std::vector<std::int64_t>> near(shapes.size());
  for (std::int64_t s = 0; s < S; ++s) {
    std::memcpy(sdf[s][0].data_ptr<float>(), shapes[s].sdf_right.data(), shapes[s].sdf_right.size() * sizeof(float));
    std::memcpy(sdf[s][1].data_ptr<float>(), shapes[s].sdf_left.data(), shapes[s].sdf_left.size() * sizeof(float));
    const double cell = 2 * box / g;
    for (std::size_t p = 0; p < shapes[s].sdf_right.size(); ++p)
      if (std::min(std::abs(shapes[s].sdf_right[p]), std::abs(shapes[s].sdf_left[p])) < 1.5 * cell)
        near[s].push_back(std::int64_t(p));
    XL_CHECK(!near[s].empty(), "lung shape training: shape ", shapes[s].id, " has no surface");
  }
  LungShapeModel model(std::make_unique<LungShapeModel::Impl>(spec));
  auto& net = model.impl().net;
  torch::Tensor codes = torch::randn({S, spec.latent}) * o.code_init_std;
  codes.set_requires_grad(true);
  torch::optim::Adam opt_net(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
  torch::optim::Adam opt_code({codes}, torch::optim::AdamOptions(o.code_learning_rate));
  const int B = std::min<int>(o.shapes_per_batch, int(S));
  const int half = o.points_per_shape / 2;
  const double cell = 2 * box / g;
  const float clamp = float(spec.sdf_clamp);
  double window = 0;
  int in_window = 0;
  std::vector<double> losses;
  for (int it = 0; it < o.iterations; ++it) {
    const torch::Tensor batch = torch::randperm(S, torch::kLong).slice(0, 0, B);
    std::vector<torch::Tensor> pts;
    for (int b = 0; b < B; ++b) {
      const std::int64_t s = batch[b].item<std::int64_t>();
      const torch::Tensor uniform = (torch::rand({half, 3}) * 2 - 1) * box;
      const auto& nr = near[std::size_t(s)];
      const torch::Tensor pick = torch::randint(std::int64_t(nr.size()), {o.points_per_shape - half}, torch::kLong);
      torch::Tensor idx = torch::empty({o.points_per_shape - half}, torch::kLong);
      auto* ip = idx.data_ptr<std::int64_t>();
      const auto* pp = pick.data_ptr<std::int64_t>();
      for (std::int64_t q = 0; q < idx.numel(); ++q) ip[q] = nr[std::size_t(pp[q])];
      const torch::Tensor ijk = torch::stack({idx % g, (idx / g) % g, idx / (g * g)}, 1).to(torch::kFloat32);
      const torch::Tensor jitter = torch::rand({idx.numel(), 3}) - 0.5;
      pts.push_back(torch::cat({uniform, -box + (ijk + 0.5 + jitter) * cell}, 0));
    }
    const torch::Tensor points = torch::stack(pts, 0);  // [B, n, 3]
    const torch::Tensor target =
        torch::nn::functional::grid_sample(sdf.index_select(0, batch), (points / box).view({B, 1, 1, -1, 3}),
                                           torch::nn::functional::GridSampleFuncOptions()
                                               .mode(torch::kBilinear)
                                               .padding_mode(torch::kBorder)
                                               .align_corners(false))
            .view({B, 2, -1})
            .transpose(1, 2)
            .reshape({-1, 2});
    const torch::Tensor z = codes.index_select(0, batch);  // [B, latent]
    const std::int64_t n = points.size(1);
    const torch::Tensor zz = z.unsqueeze(1).expand({B, n, spec.latent}).reshape({-1, spec.latent});
    const torch::Tensor pred = net->forward(zz, points.reshape({-1, 3}));
    // DeepSDF's |clamp(f) - clamp(s)|, except that a prediction beyond the clamp on the wrong side still gets a
    // gradient (the plain clamp has none there: a network whose first outputs lie beyond it never moves).
    const torch::Tensor t = target.clamp(-clamp, clamp);
    const torch::Tensor l1 =
        torch::where(target.abs() >= clamp, torch::relu(-t.sign() * (pred - t)), (pred - t).abs()).mean();
    const torch::Tensor loss = l1 + o.code_prior * z.pow(2).sum(1).mean();
    opt_net.zero_grad(), opt_code.zero_grad();
    loss.backward();
    opt_net.step(), opt_code.step();
    window += l1.item<double>(), ++in_window;
    if (in_window == 100 || it + 1 == o.iterations) losses.push_back(window / in_window), window = 0, in_window = 0;
  }
  model.impl().codes = codes.detach().clone();
  net->eval();
  if (report) {
    report->loss = losses;
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return model;
}

LungShapeFit fit_lung_shape(const LungShapeModel& model, const std::vector<core::Camera>& cameras,
                            const std::vector<Mask2D>& fields, const data::LungSegmentation& init,
                            const LungShapeFitOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  o.validate();
  XL_CHECK(!cameras.empty(), "lung shape fit: no cameras; expected one per view");
  XL_CHECK(fields.size() == cameras.size(), "lung shape fit: ", fields.size(), " lung fields for ", cameras.size(),
           " cameras; expected one per camera");
  for (std::size_t v = 0; v < cameras.size(); ++v)
    XL_CHECK(fields[v].width == cameras[v].width() && fields[v].height == cameras[v].height() &&
                 fields[v].pixels.size() == std::size_t(fields[v].width) * std::size_t(fields[v].height),
             "lung shape fit: lung field ", v, " is ", fields[v].width, " x ", fields[v].height, ", camera ",
             cameras[v].name(), " is ", cameras[v].width(), " x ", cameras[v].height());
  const BoxOfLungs b = lung_box(init.labels);
  XL_CHECK(b.voxels > 0, "lung shape fit: the initial lungs (visual hull) are empty; expected a box to start from");
  if (o.threads > 0) torch::set_num_threads(o.threads);
  const Eigen::Vector3d c0 = 0.5 * (b.lo + b.hi), h0 = 0.5 * (b.hi - b.lo);

  // The fit's grid over the init box grown by the margin; its projections are fixed (the pose moves the shape).
  core::VolumeGeometry grid;
  const Eigen::Vector3d lo = b.lo - o.margin * (b.hi - b.lo), hi = b.hi + o.margin * (b.hi - b.lo);
  for (int a = 0; a < 3; ++a) grid.dims[a] = std::max(2, int(std::ceil((hi[a] - lo[a]) / o.grid_mm)));
  grid.spacing = Eigen::Vector3d::Constant(o.grid_mm);
  grid.origin = lo + 0.5 * grid.spacing;
  const core::VoxelProjections proj = core::project_voxel_centres(grid, cameras);
  const std::int64_t M = grid.voxel_count();
  // Down-sampled fields: area fraction per field pixel; pixel index per (view, voxel).
  std::vector<float> target_all;
  std::vector<std::int64_t> pix, vox;
  std::int64_t pixel_base = 0;
  std::vector<std::int64_t> offsets;
  for (std::size_t v = 0; v < cameras.size(); ++v) {
    const Mask2D& f = fields[v];
    const int w = std::min(o.field_px, f.width);
    const int h = std::max(1, int(std::lround(double(f.height) * w / f.width)));
    const double sx = double(w) / f.width, sy = double(h) / f.height;
    std::vector<float> frac(std::size_t(w) * h, 0.0f), area(std::size_t(w) * h, 0.0f);
    for (int r = 0; r < f.height; ++r)
      for (int c = 0; c < f.width; ++c) {
        const std::size_t p = std::size_t(std::min(h - 1, int(r * sy))) * w + std::min(w - 1, int(c * sx));
        frac[p] += f.at(c, r) ? 1.0f : 0.0f, area[p] += 1.0f;
      }
    for (std::size_t p = 0; p < frac.size(); ++p) target_all.push_back(area[p] > 0 ? frac[p] / area[p] : 0.0f);
    for (std::int64_t i = 0; i < M; ++i) {
      if (!proj.visible[v * std::size_t(M) + std::size_t(i)]) continue;
      const core::PixelProjection& q = proj.at(v, i);
      const int c = std::min(w - 1, int(q.u * sx)), r = std::min(h - 1, int(q.v * sy));
      pix.push_back(pixel_base + std::int64_t(r) * w + c), vox.push_back(i);
    }
    offsets.push_back(pixel_base);
    pixel_base += std::int64_t(w) * h;
  }
  XL_CHECK(!pix.empty(), "lung shape fit: no voxel of the box ", lo.transpose(), " .. ", hi.transpose(),
           " mm projects into any view; expected cameras that see the lungs");
  const torch::Tensor pix_t = torch::from_blob(pix.data(), {std::int64_t(pix.size())}, torch::kLong).clone();
  const torch::Tensor vox_t = torch::from_blob(vox.data(), {std::int64_t(vox.size())}, torch::kLong).clone();
  const torch::Tensor target_full = torch::from_blob(target_all.data(), {pixel_base}, torch::kFloat32).clone();
  // Pixels that some voxel reaches are the ones the model can explain.
  const torch::Tensor covered = torch::zeros({pixel_base}, torch::kBool).index_fill(0, pix_t, true);
  const torch::Tensor covered_idx = covered.nonzero().squeeze(1);
  const torch::Tensor target = target_full.index_select(0, covered_idx);
  XL_CHECK(target.sum().item<float>() > 0,
           "lung shape fit: the lung fields are empty where the box projects; "
           "expected lung fields (drr::lungs_from_views)");

  torch::Tensor world = torch::empty({M, 3});
  {
    auto* w = world.data_ptr<float>();
    for (std::int64_t i = 0; i < M; ++i) {
      const Eigen::Vector3d x = core::voxel_centre(grid, i);
      w[3 * i] = float(x.x()), w[3 * i + 1] = float(x.y()), w[3 * i + 2] = float(x.z());
    }
  }
  auto& net = model.impl().net;
  const torch::Tensor c0_t = torch::tensor({float(c0.x()), float(c0.y()), float(c0.z())});
  const torch::Tensor h0_t = torch::tensor({float(h0.x()), float(h0.y()), float(h0.z())});
  // Start from the mean training code (the prior's centre), pulled towards it by the prior.
  const torch::Tensor mean_code = model.impl().codes.mean(0, true).detach();
  torch::Tensor code = mean_code.clone().set_requires_grad(true);
  torch::Tensor shift = torch::zeros({3}, torch::requires_grad());      // in units of h0
  torch::Tensor log_scale = torch::zeros({3}, torch::requires_grad());  // of h0
  for (auto& p : net->parameters()) p.set_requires_grad(false);
  torch::optim::Adam opt_code({code}, torch::optim::AdamOptions(o.learning_rate));
  torch::optim::Adam opt_pose({shift, log_scale}, torch::optim::AdamOptions(std::max(1e-12, o.pose_learning_rate)));
  const auto pose = [&](const torch::Tensor& pts) { return (pts - (c0_t + shift * h0_t)) / (h0_t * log_scale.exp()); };
  LungShapeFit fit;
  for (int it = 0; it < o.iterations; ++it) {
    const torch::Tensor sdf = net->forward(code, pose(world));
    const torch::Tensor occ = torch::sigmoid(-std::get<0>(sdf.min(1)) / o.tau);
    const torch::Tensor sil = torch::zeros({pixel_base})
                                  .scatter_reduce(0, pix_t, occ.index_select(0, vox_t), "amax", false)
                                  .index_select(0, covered_idx)
                                  .clamp(1e-4, 1 - 1e-4);
    const torch::Tensor bce = torch::binary_cross_entropy(sil, target);
    const torch::Tensor loss = bce + o.code_prior * (code - mean_code).pow(2).sum();
    opt_code.zero_grad(), opt_pose.zero_grad();
    loss.backward();
    opt_code.step();
    if (o.pose_learning_rate > 0) opt_pose.step();
    if (it == 0) fit.first_loss = bce.item<double>();
    fit.last_loss = bce.item<double>();
  }
  for (auto& p : net->parameters()) p.set_requires_grad(true);

  // The fitted SDF evaluated on a grid of sdf_mm, trilinearly up-sampled to output_mm (the network's cost is per
  // evaluated point; the SDF is smooth at that scale).
  torch::NoGradGuard ng;
  const Eigen::Vector3d scale(std::exp(log_scale[0].item<double>()), std::exp(log_scale[1].item<double>()),
                              std::exp(log_scale[2].item<double>()));
  fit.centre =
      c0 + Eigen::Vector3d(shift[0].item<double>(), shift[1].item<double>(), shift[2].item<double>()).cwiseProduct(h0);
  fit.half_extent = h0.cwiseProduct(scale);
  fit.code.assign(code.data_ptr<float>(), code.data_ptr<float>() + code.numel());
  const double coarse_mm = std::max(o.output_mm, o.sdf_mm);
  core::VolumeGeometry cg;
  for (int a = 0; a < 3; ++a) cg.dims[a] = std::max(2, int(std::ceil((hi[a] - lo[a]) / coarse_mm)) + 1);
  cg.spacing = Eigen::Vector3d::Constant(coarse_mm);
  cg.origin = lo;
  torch::Tensor cw = torch::empty({cg.voxel_count(), 3});
  {
    auto* w = cw.data_ptr<float>();
    for (std::int64_t i = 0; i < cg.voxel_count(); ++i) {
      const Eigen::Vector3d x = core::voxel_centre(cg, i);
      w[3 * i] = float(x.x()), w[3 * i + 1] = float(x.y()), w[3 * i + 2] = float(x.z());
    }
  }
  std::vector<torch::Tensor> parts;
  for (std::int64_t s = 0; s < cw.size(0); s += 65536)
    parts.push_back(net->forward(code, pose(cw.slice(0, s, std::min(cw.size(0), s + 65536)))));
  const torch::Tensor coarse =
      torch::cat(parts, 0).t().reshape({1, 2, cg.dims.z(), cg.dims.y(), cg.dims.x()}).contiguous();
  core::VolumeGeometry og;
  for (int a = 0; a < 3; ++a) og.dims[a] = std::max(1, int(std::floor((hi[a] - lo[a]) / o.output_mm)));
  og.spacing = Eigen::Vector3d::Constant(o.output_mm);
  og.origin = lo + 0.5 * og.spacing;
  // Output voxel centres in the coarse grid's normalised coordinates (align_corners: -1 / +1 at the end nodes).
  torch::Tensor og_pts = torch::empty({og.voxel_count(), 3});
  {
    auto* w = og_pts.data_ptr<float>();
    for (std::int64_t i = 0; i < og.voxel_count(); ++i) {
      const Eigen::Vector3d x = core::voxel_centre(og, i);
      for (int a = 0; a < 3; ++a)
        w[3 * i + a] = float(2.0 * (x[a] - cg.origin[a]) / (cg.spacing[a] * (cg.dims[a] - 1)) - 1.0);
    }
  }
  const torch::Tensor fine = torch::nn::functional::grid_sample(coarse, og_pts.view({1, 1, 1, -1, 3}),
                                                                torch::nn::functional::GridSampleFuncOptions()
                                                                    .mode(torch::kBilinear)
                                                                    .padding_mode(torch::kBorder)
                                                                    .align_corners(true))
                                 .view({2, -1})
                                 .contiguous();
  const float* r = fine[0].data_ptr<float>();
  const float* l = fine[1].data_ptr<float>();
  fit.lungs.labels = core::VolumeU8(og, 0);
  fit.lungs_in_hull.labels = core::VolumeU8(og, 0);
  for (std::int64_t i = 0; i < og.voxel_count(); ++i) {
    std::uint8_t label = data::kBackground;
    if (std::min(r[i], l[i]) < 0) label = r[i] <= l[i] ? data::kRightLung : data::kLeftLung;
    fit.lungs.labels.values()[std::size_t(i)] = label;
    if (label && label_at(init.labels, core::voxel_centre(og, i)))
      fit.lungs_in_hull.labels.values()[std::size_t(i)] = label;
  }
  for (auto* seg : {&fit.lungs, &fit.lungs_in_hull}) {
    seg->right_ml = data::label_volume_ml(seg->labels, data::kRightLung);
    seg->left_ml = data::label_volume_ml(seg->labels, data::kLeftLung);
  }
  XL_CHECK(fit.lungs.total_ml() > 0, "lung shape fit: the fitted model is empty (loss ", fit.last_loss,
           "); expected lung fields that the model can match");
  fit.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return fit;
}

data::LungSegmentation best_views_lungs(const ViewsLungs& views, const LungShapeModel* model, std::string& model_name,
                                        std::string* note, const LungShapeFitOptions& options) {
  model_name = "hull";
  if (std::string(kBestViewsLungModel) == "tomography") {
    try {
      LungTomography t = reconstruct_lungs(views.cameras, lung_path_estimate(views), views.lungs);
      model_name = "tomography";
      if (note)
        *note = core::cat("lungs from their path lengths (tomography) in ", std::lround(t.seconds * 10) / 10.0, " s");
      return std::move(t.lungs);
    } catch (const core::InputError& e) {
      if (note) *note = core::cat("lung tomography failed (", e.what(), "); the visual hull instead");
      return views.lungs;
    }
  }
  if (!model || std::string(kBestViewsLungModel) == "hull") return views.lungs;
  try {
    LungShapeFit fit = fit_lung_shape(*model, views.cameras, views.fields, views.lungs, options);
    model_name = kBestViewsLungModel;
    if (note)
      *note =
          core::cat("parametric lung model fitted in ", std::lround(fit.seconds * 10) / 10.0, " s (", model_name, ")");
    return model_name == "parametric" ? std::move(fit.lungs) : std::move(fit.lungs_in_hull);
  } catch (const core::InputError& e) {
    if (note) *note = core::cat("parametric lung fit failed (", e.what(), "); the visual hull instead");
    return views.lungs;
  }
}

}  // namespace xraylift::drr
