#include "xraylift/data/insert.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "nodule_shape.hpp"
#include "phantom_noise.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::data {

void InsertSpec::validate() const {
  if (nodules < 1 || nodules > 50)
    throw core::ConfigError(core::cat("insert: nodules = ", nodules, ", expected 1..50"));
  if (!(min_diameter_mm >= 2 && min_diameter_mm <= max_diameter_mm && max_diameter_mm <= 40))
    throw core::ConfigError(core::cat("insert: diameters [", min_diameter_mm, ", ", max_diameter_mm,
                                      "] mm, expected 2 <= min <= max <= 40"));
  if (!(noise_hu >= 0 && noise_hu <= 100))
    throw core::ConfigError(core::cat("insert: noise_hu = ", noise_hu, ", expected 0..100"));
}

core::VolumeU8 parenchyma_mask(const core::VolumeI16& hu) {
  const auto& g = hu.geometry();
  core::VolumeU8 mask(g, 0);
  const int nx = g.dims.x(), ny = g.dims.y();
  core::parallel_for(g.dims.z(), [&](int k) {
    // Outside air: low HU connected to the slice border (4-connected flood fill).
    std::vector<std::uint8_t> outside(std::size_t(nx) * ny, 0);
    std::vector<int> stack;
    auto push = [&](int i, int j) {
      const std::size_t n = std::size_t(j) * nx + i;
      if (!outside[n] && hu.at(i, j, k) < -400) {
        outside[n] = 1;
        stack.push_back(int(n));
      }
    };
    for (int i = 0; i < nx; ++i) {
      push(i, 0);
      push(i, ny - 1);
    }
    for (int j = 0; j < ny; ++j) {
      push(0, j);
      push(nx - 1, j);
    }
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      const int i = n % nx, j = n / nx;
      if (i > 0) push(i - 1, j);
      if (i + 1 < nx) push(i + 1, j);
      if (j > 0) push(i, j - 1);
      if (j + 1 < ny) push(i, j + 1);
    }
    auto inner = [&](int i, int j) {
      const int v = hu.at(i, j, k);
      return !outside[std::size_t(j) * nx + i] && v >= -950 && v <= -500;
    };
    for (int j = 1; j + 1 < ny; ++j)
      for (int i = 1; i + 1 < nx; ++i)
        mask.at(i, j, k) = inner(i, j) && inner(i - 1, j) && inner(i + 1, j) && inner(i, j - 1) && inner(i, j + 1);
  });
  return mask;
}

InsertResult insert_nodules(const Case& input, const InsertSpec& spec) {
  spec.validate();
  validate_case(input, "insert_nodules: input case");
  InsertResult res;
  res.ct = input;
  auto& hu = res.ct.hu;
  const auto& g = hu.geometry();
  const core::VolumeU8 mask = parenchyma_mask(input.hu);
  std::vector<std::int64_t> candidates;
  for (std::int64_t n = 0; n < mask.size(); n += 7)  // a subsample is plenty for drawing centres
    if (mask.values()[std::size_t(n)]) candidates.push_back(n);
  XL_CHECK(candidates.size() > 100, "insert_nodules: case '", input.id, "' has no lung parenchyma large enough (",
           candidates.size(), " candidate voxels); is it a chest CT in HU?");
  std::mt19937_64 rng(spec.seed * 0x9E3779B97F4A7C15ull + 3);
  std::mt19937_64 shape_rng(spec.seed * 131 + 5);
  std::uniform_real_distribution<double> unit(0, 1);
  auto in_mask = [&](const Eigen::Vector3d& p) {
    const Eigen::Vector3d idx = g.world_to_index(p);
    const int i = int(std::lround(idx.x())), j = int(std::lround(idx.y())), k = int(std::lround(idx.z()));
    return mask.in_bounds(i, j, k) && mask.at(i, j, k);
  };
  const detail::LatticeNoise tex(
      spec.seed ^ 0x7777, g.index_to_world(Eigen::Vector3d::Zero()) - Eigen::Vector3d::Constant(5),
      g.index_to_world((g.dims.array() - 1).matrix().cast<double>()) + Eigen::Vector3d::Constant(5), 1.5);
  std::vector<Eigen::Vector3d> placed;
  for (const auto& b : input.nodules) placed.push_back(b.box.center);
  core::VolumeU8 owner(g, 0);
  for (int n = 0; n < spec.nodules; ++n) {
    PhantomNodule pn;
    const double u = unit(rng);
    pn.kind = u < 0.6 ? NoduleKind::kSolid : (u < 0.8 ? NoduleKind::kPartSolid : NoduleKind::kGroundGlass);
    const double v = unit(rng);
    pn.shape = v < 0.45 ? NoduleShape::kSphere : (v < 0.75 ? NoduleShape::kLobulated : NoduleShape::kSpiculated);
    pn.site = NoduleSite::kParenchyma;
    pn.radius_mm = 0.5 * spec.min_diameter_mm * std::pow(spec.max_diameter_mm / spec.min_diameter_mm, unit(rng));
    bool ok = false;
    for (int attempt = 0; attempt < 2000 && !ok; ++attempt) {
      const std::int64_t lin = candidates[std::size_t(unit(rng) * candidates.size()) % candidates.size()];
      const int i = int(lin % g.dims.x()), j = int((lin / g.dims.x()) % g.dims.y()),
                k = int(lin / (std::int64_t(g.dims.x()) * g.dims.y()));
      const Eigen::Vector3d c = g.index_to_world(Eigen::Vector3d(i, j, k));
      ok = true;
      for (const auto& o : placed) ok = ok && (o - c).norm() > pn.radius_mm + 25.0;
      for (int a = 0; a < 3 && ok; ++a)
        for (int s = -1; s <= 1 && ok; s += 2) {
          Eigen::Vector3d q = c;
          q[a] += s * 1.3 * pn.radius_mm;
          ok = in_mask(q);
        }
      for (int s = 0; s < 8 && ok; ++s) {  // diagonals too
        const Eigen::Vector3d d((s & 1) ? 1 : -1, (s & 2) ? 1 : -1, (s & 4) ? 1 : -1);
        ok = in_mask(c + d.normalized() * 1.3 * pn.radius_mm);
      }
      if (ok) pn.center_mm = c;
    }
    if (!ok) continue;
    const auto shape = detail::make_nodule_shape(pn.center_mm, pn.radius_mm, pn.shape, shape_rng);
    const Eigen::Vector3d pad = Eigen::Vector3d::Constant(shape.extent() + 2 * g.spacing.maxCoeff());
    const Eigen::Vector3d i0 = g.world_to_index(pn.center_mm - pad), i1 = g.world_to_index(pn.center_mm + pad);
    Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e18), hi = -lo;
    const int id = static_cast<int>(res.inserted.size()) + 1;
    for (int k = std::max(0, int(std::floor(i0.z()))); k <= std::min(g.dims.z() - 1, int(std::ceil(i1.z()))); ++k)
      for (int j = std::max(0, int(std::floor(i0.y()))); j <= std::min(g.dims.y() - 1, int(std::ceil(i1.y()))); ++j)
        for (int i = std::max(0, int(std::floor(i0.x()))); i <= std::min(g.dims.x() - 1, int(std::ceil(i1.x()))); ++i) {
          const Eigen::Vector3d p = g.index_to_world(Eigen::Vector3d(i, j, k));
          const double f = shape.value(p);
          const double alpha = std::clamp((1.0 - f) / 0.2 + 0.5, 0.0, 1.0);  // >= 0.5 inside, soft edge outside
          if (alpha <= 0) continue;
          const double t = tex(p);
          double target;
          switch (pn.kind) {
            case NoduleKind::kSolid:
              target = 35 + spec.noise_hu * 1.5 * t;
              break;
            case NoduleKind::kGroundGlass:
              target = -480 + 100 * t;
              break;
            default:
              target = f < 0.5 ? 30 + spec.noise_hu * t : -450 + 90 * t;
              break;
          }
          auto& h = hu.at(i, j, k);
          h = static_cast<std::int16_t>(std::lround(
              (1 - alpha) * h + alpha * std::max<double>(target, pn.kind == NoduleKind::kSolid ? target : h)));
          if (f <= 1) {
            owner.at(i, j, k) = static_cast<std::uint8_t>(id);
            lo = lo.cwiseMin(p);
            hi = hi.cwiseMax(p);
            ++pn.voxels;
          }
        }
    if (pn.voxels == 0) continue;
    pn.truth.box = core::Box3D::from_min_max(lo - 0.5 * g.spacing, hi + 0.5 * g.spacing);
    pn.truth.id = core::cat("ins", id);
    pn.truth.diameter_mm = 2 * pn.radius_mm;
    pn.truth.label = "nodule";
    pn.truth.texture = to_string(pn.kind);
    placed.push_back(pn.center_mm);
    res.inserted.push_back(pn);
    res.ct.nodules.push_back(pn.truth);
  }
  XL_CHECK(!res.inserted.empty(), "insert_nodules: no room for any nodule in case '", input.id,
           "' (lungs too small for ", spec.min_diameter_mm, " mm?)");
  nlohmann::json ins = nlohmann::json::array();
  for (const auto& n : res.inserted)
    ins.push_back({{"id", n.truth.id},
                   {"kind", to_string(n.kind)},
                   {"shape", to_string(n.shape)},
                   {"center_mm", {n.center_mm.x(), n.center_mm.y(), n.center_mm.z()}},
                   {"radius_mm", n.radius_mm},
                   {"voxels", n.voxels}});
  res.ct.meta["source"] = "insert";
  res.ct.meta["inserted_from"] = input.id;
  res.ct.meta["insert_seed"] = spec.seed;
  res.ct.meta["inserted"] = ins;
  return res;
}

}  // namespace xraylift::data
