#include "xraylift/eval/mask3d.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::eval {

namespace {

// No seed: a large finite value (exact arithmetic for distances up to ~1e5 voxels; an infinity breaks the
// parabola intersections).
constexpr double kFar = 1e12;

// 1D squared distance transform of f (Felzenszwalb & Huttenlocher 2012), unit spacing, in place.
void dt1d(std::vector<double>& f, std::vector<double>& d, std::vector<int>& v, std::vector<double>& z) {
  const int n = int(f.size());
  const double inf = std::numeric_limits<double>::infinity();
  int k = 0;
  v[0] = 0, z[0] = -inf, z[1] = inf;
  for (int q = 1; q < n; ++q) {
    double s = ((f[q] + double(q) * q) - (f[v[k]] + double(v[k]) * v[k])) / (2.0 * q - 2.0 * v[k]);
    while (k > 0 && s <= z[k]) {
      --k;
      s = ((f[q] + double(q) * q) - (f[v[k]] + double(v[k]) * v[k])) / (2.0 * q - 2.0 * v[k]);
    }
    ++k;
    v[k] = q, z[k] = s, z[k + 1] = inf;
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < q) ++k;
    d[q] = (q - v[k]) * double(q - v[k]) + f[v[k]];
  }
  f = d;
}

// Squared distance (in voxels^2) to the nearest seed voxel.
std::vector<double> squared_distance(const std::vector<std::uint8_t>& seed, const Eigen::Vector3i& dims) {
  const std::int64_t nx = dims.x(), ny = dims.y(), nz = dims.z();
  std::vector<double> g(seed.size());
  for (std::size_t p = 0; p < seed.size(); ++p) g[p] = seed[p] ? 0.0 : kFar;
  const std::array<std::int64_t, 3> len{nx, ny, nz}, stride{1, nx, nx * ny};
  for (int a = 0; a < 3; ++a) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    const std::int64_t la = len[a], lb = len[b], sa = stride[a], sb = stride[b], sc = stride[c];
    core::parallel_for(len[c], [&g, la, lb, sa, sb, sc](std::int64_t kc) {
      std::vector<double> f(static_cast<std::size_t>(la)), d(f.size()), z(f.size() + 1);
      std::vector<int> v(f.size());
      for (std::int64_t kb = 0; kb < lb; ++kb) {
        const std::int64_t base = kb * sb + kc * sc;
        for (std::int64_t i = 0; i < la; ++i) f[i] = g[base + i * sa];
        dt1d(f, d, v, z);
        for (std::int64_t i = 0; i < la; ++i) g[base + i * sa] = f[i];
      }
    });
  }
  return g;
}

std::vector<std::uint8_t> resample(const core::VolumeU8& m, const core::VolumeGeometry& g) {
  std::vector<std::uint8_t> out(std::size_t(g.voxel_count()), 0);
  const Eigen::Vector3i d = m.dims();
  core::parallel_for(g.dims.z(), [&](std::int64_t k) {
    for (int j = 0; j < g.dims.y(); ++j)
      for (int i = 0; i < g.dims.x(); ++i) {
        const Eigen::Vector3d ijk = m.geometry().world_to_index(g.index_to_world(Eigen::Vector3d(i, j, double(k))));
        const int a = int(std::lround(ijk.x())), b = int(std::lround(ijk.y())), c = int(std::lround(ijk.z()));
        if (a < 0 || b < 0 || c < 0 || a >= d.x() || b >= d.y() || c >= d.z()) continue;
        out[std::size_t(i + std::int64_t(g.dims.x()) * (j + std::int64_t(g.dims.y()) * k))] = m.at(a, b, c) != 0;
      }
  });
  return out;
}

std::vector<std::uint8_t> boundary(const std::vector<std::uint8_t>& m, const Eigen::Vector3i& dims) {
  const std::int64_t nx = dims.x(), ny = dims.y(), nz = dims.z();
  std::vector<std::uint8_t> b(m.size(), 0);
  for (std::int64_t k = 0; k < nz; ++k)
    for (std::int64_t j = 0; j < ny; ++j)
      for (std::int64_t i = 0; i < nx; ++i) {
        const std::int64_t p = i + nx * (j + ny * k);
        if (!m[p]) continue;
        b[p] = i == 0 || i + 1 == nx || j == 0 || j + 1 == ny || k == 0 || k + 1 == nz || !m[p - 1] || !m[p + 1] ||
               !m[p - nx] || !m[p + nx] || !m[p - nx * ny] || !m[p + nx * ny];
      }
  return b;
}

}  // namespace

MaskComparison compare_masks(const core::VolumeU8& a, const core::VolumeU8& b, double grid_mm,
                             std::int64_t max_voxels) {
  XL_CHECK(!a.empty() && !b.empty(), "compare masks: an empty mask");
  XL_CHECK(a.geometry().axis_aligned() && b.geometry().axis_aligned(), "compare masks: masks must be axis-aligned");
  XL_CHECK(std::isfinite(grid_mm) && grid_mm > 0, "compare masks: grid_mm ", grid_mm, ", expected > 0");
  const core::Box3D ba = a.geometry().world_bounds(), bb = b.geometry().world_bounds();
  const Eigen::Vector3d lo = ba.min().cwiseMin(bb.min()), hi = ba.max().cwiseMax(bb.max());
  core::VolumeGeometry g;
  g.spacing = Eigen::Vector3d::Constant(grid_mm);
  for (int i = 0; i < 3; ++i) g.dims[i] = std::max(1, int(std::ceil((hi[i] - lo[i]) / grid_mm)));
  XL_CHECK(g.voxel_count() <= max_voxels, "compare masks: a common grid of ", g.dims.transpose(), " voxels at ",
           grid_mm, " mm is over ", max_voxels, "; expected a coarser grid_mm");
  g.origin = lo + 0.5 * g.spacing;
  const auto ma = resample(a, g), mb = resample(b, g);
  MaskComparison r;
  std::size_t na = 0, nb = 0, both = 0;
  for (std::size_t p = 0; p < ma.size(); ++p) na += ma[p], nb += mb[p], both += ma[p] && mb[p];
  const double voxel_ml = grid_mm * grid_mm * grid_mm / 1000.0;
  r.dice = na + nb == 0 ? 1.0 : 2.0 * double(both) / double(na + nb);
  r.truth_ml = double(na) * voxel_ml, r.other_ml = double(nb) * voxel_ml;
  r.extra_ml = double(nb - both) * voxel_ml, r.missed_ml = double(na - both) * voxel_ml;
  r.volume_error_ml = r.other_ml - r.truth_ml;
  r.volume_error_pct = r.truth_ml > 0 ? 100.0 * r.volume_error_ml / r.truth_ml : 0.0;
  const auto sa = boundary(ma, g.dims), sb = boundary(mb, g.dims);
  const auto da = squared_distance(sa, g.dims), db = squared_distance(sb, g.dims);
  std::vector<double> d;
  for (std::size_t p = 0; p < ma.size(); ++p) {
    if (sa[p] && db[p] < 0.5 * kFar) d.push_back(std::sqrt(db[p]) * grid_mm);
    if (sb[p] && da[p] < 0.5 * kFar) d.push_back(std::sqrt(da[p]) * grid_mm);
  }
  if (!d.empty()) {
    double sum = 0;
    for (double x : d) sum += x;
    r.surface_mean_mm = sum / double(d.size());
    const std::size_t k = std::min(d.size() - 1, std::size_t(std::ceil(0.95 * double(d.size()))) - 1);
    std::nth_element(d.begin(), d.begin() + std::ptrdiff_t(k), d.end());
    r.surface_p95_mm = d[k];
  }
  return r;
}

}  // namespace xraylift::eval
