// Anatomy statistics inside the lung mask (docs/data.md "Anatomy statistics"): lung volumes, vessel fraction,
// centreline radii, components, branch points, LoG blob densities and the parenchyma's HU histogram.
#include "xraylift/data/anatomy_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double gaussian(double x, double sigma) {
  return std::exp(-0.5 * x * x / (sigma * sigma)) / (sigma * std::sqrt(2 * kPi));
}

// Gaussian (order 0) or its second derivative (order 2, per mm^2) integrated over each voxel cell of width `step`:
// well-behaved even when sigma is close to the spacing (thick CT slices).
std::vector<float> cell_kernel(double sigma, double step, int order) {
  const int radius = std::max(1, int(std::ceil(4 * sigma / step)));
  std::vector<float> k(2 * radius + 1);
  for (int t = -radius; t <= radius; ++t) {
    const double a = (t - 0.5) * step, b = (t + 0.5) * step;
    double v;
    if (order == 0) {
      v = normal_cdf(b / sigma) - normal_cdf(a / sigma);
    } else {
      auto d1 = [&](double x) { return -x / (sigma * sigma) * gaussian(x, sigma); };  // G'
      v = d1(b) - d1(a);                                                              // G'' integrated over the cell
    }
    k[t + radius] = static_cast<float>(v);
  }
  return k;
}

// out = kernel (*) in along `axis`, edges replicated. Rows of x run through core::parallel_for.
void convolve_axis(const std::vector<float>& in, std::vector<float>& out, const Eigen::Vector3i& n, int axis,
                   const std::vector<float>& kernel, int threads) {
  out.assign(in.size(), 0.0f);
  const int radius = int(kernel.size() / 2);
  const int nx = n.x(), ny = n.y(), nz = n.z();
  core::parallel_for(
      std::int64_t(ny) * nz,
      [&](std::int64_t row) {
        const int j = int(row % ny), k = int(row / ny);
        float* o = out.data() + row * nx;
        if (axis == 0) {
          const float* r = in.data() + row * nx;
          for (int i = 0; i < nx; ++i) {
            float s = 0;
            for (int t = -radius; t <= radius; ++t) s += kernel[t + radius] * r[std::clamp(i + t, 0, nx - 1)];
            o[i] = s;
          }
          return;
        }
        for (int t = -radius; t <= radius; ++t) {
          const int jj = axis == 1 ? std::clamp(j + t, 0, ny - 1) : j;
          const int kk = axis == 2 ? std::clamp(k + t, 0, nz - 1) : k;
          const float* r = in.data() + (std::int64_t(kk) * ny + jj) * nx;
          const float w = kernel[t + radius];
          for (int i = 0; i < nx; ++i) o[i] += w * r[i];
        }
      },
      threads, 8);
}

// Histogram percentile of integer HU counts (offset by `lo`).
double percentile(const std::vector<std::int64_t>& counts, int lo, double q) {
  const std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t(0));
  if (total == 0) return 0;
  const double target = q * double(total);
  std::int64_t run = 0;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    run += counts[b];
    if (double(run) >= target && counts[b]) return lo + int(b);
  }
  return lo + int(counts.size()) - 1;
}

}  // namespace

void AnatomyStatsOptions::validate() const {
  if (!(vessel_hu > -1000 && vessel_hu < 500))
    throw core::ConfigError(core::cat("anatomy stats: vessel_hu = ", vessel_hu, ", expected -1000..500"));
  if (!(thick_radius_mm > 0))
    throw core::ConfigError(core::cat("anatomy stats: thick_radius_mm = ", thick_radius_mm, ", expected > 0"));
  if (radius_edges_mm.size() < 2 || !std::is_sorted(radius_edges_mm.begin(), radius_edges_mm.end()))
    throw core::ConfigError("anatomy stats: radius_edges_mm must hold >= 2 ascending edges");
  for (double d : blob_diameters_mm)
    if (!(d >= 1 && d <= 60))
      throw core::ConfigError(core::cat("anatomy stats: blob diameter ", d, " mm, expected 1..60 mm"));
  if (!(blob_min_response_hu > 0))
    throw core::ConfigError(
        core::cat("anatomy stats: blob_min_response_hu = ", blob_min_response_hu, ", expected > 0"));
  if (!(histogram_bin_hu > 0 && histogram_lo_hu < histogram_hi_hu))
    throw core::ConfigError(core::cat("anatomy stats: histogram [", histogram_lo_hu, ", ", histogram_hi_hu, ") HU by ",
                                      histogram_bin_hu, ", expected lo < hi and bin > 0"));
}

core::VolumeF log_response(const core::VolumeF& image, double sigma_mm, int threads) {
  image.geometry().validate("log_response: image");
  XL_CHECK(sigma_mm > 0 && std::isfinite(sigma_mm), "log_response: sigma ", sigma_mm, " mm, expected > 0");
  const Eigen::Vector3i n = image.dims();
  const Eigen::Vector3d sp = image.spacing();
  std::vector<float> g[3], g2[3];
  for (int a = 0; a < 3; ++a) g[a] = cell_kernel(sigma_mm, sp[a], 0), g2[a] = cell_kernel(sigma_mm, sp[a], 2);
  // Laplacian = Gxx Gy Gz + Gx Gyy Gz + Gx Gy Gzz, sharing the z and y passes: 7 one-dimensional passes.
  std::vector<float> z0, z2, y0z0, y2z0, y0z2, lap, tmp;
  convolve_axis(image.values(), z0, n, 2, g[2], threads);
  convolve_axis(image.values(), z2, n, 2, g2[2], threads);
  convolve_axis(z0, y0z0, n, 1, g[1], threads);
  convolve_axis(z0, y2z0, n, 1, g2[1], threads);
  std::vector<float>().swap(z0);
  convolve_axis(z2, y0z2, n, 1, g[1], threads);
  std::vector<float>().swap(z2);
  for (std::size_t p = 0; p < y2z0.size(); ++p) y2z0[p] += y0z2[p];
  std::vector<float>().swap(y0z2);
  convolve_axis(y0z0, lap, n, 0, g2[0], threads);
  convolve_axis(y2z0, tmp, n, 0, g[0], threads);
  core::VolumeF out(image.geometry(), 0.0f);
  const float scale = static_cast<float>(-sigma_mm * sigma_mm);
  for (std::size_t p = 0; p < lap.size(); ++p) out.values()[p] = scale * (lap[p] + tmp[p]);
  return out;
}

std::vector<Blob> log_blobs(const core::VolumeF& image, double diameter_mm, double min_response,
                            const core::VolumeU8& region, int threads) {
  XL_CHECK(region.empty() || region.dims() == image.dims(), "log_blobs: region dims ", region.dims().transpose(),
           " differ from the image's ", image.dims().transpose());
  XL_CHECK(diameter_mm > 0, "log_blobs: diameter ", diameter_mm, " mm, expected > 0");
  // A ball of radius r gives its strongest normalized response at sigma = r / sqrt(3).
  const core::VolumeF r = log_response(image, diameter_mm / (2 * std::sqrt(3.0)), threads);
  const Eigen::Vector3i n = image.dims();
  std::vector<std::vector<Blob>> per_slice(std::max(0, n.z()));
  core::parallel_for(
      n.z(),
      [&](std::int64_t kk) {
        const int k = int(kk);
        if (k == 0 || k == n.z() - 1) return;
        for (int j = 1; j + 1 < n.y(); ++j)
          for (int i = 1; i + 1 < n.x(); ++i) {
            const float v = r.at(i, j, k);
            if (v < min_response || (!region.empty() && !region.at(i, j, k))) continue;
            // Strictly above the neighbours before it in storage order, at least equal to those after it: one
            // maximum per plateau.
            bool peak = true;
            for (int dz = -1; dz <= 1 && peak; ++dz)
              for (int dy = -1; dy <= 1 && peak; ++dy)
                for (int dx = -1; dx <= 1 && peak; ++dx) {
                  const int order = dz * 9 + dy * 3 + dx;
                  if (order == 0) continue;
                  const float w = r.at(i + dx, j + dy, k + dz);
                  peak = order < 0 ? v > w : v >= w;
                }
            if (peak) per_slice[k].push_back({image.index_to_world(Eigen::Vector3d(i, j, k)), double(v)});
          }
      },
      threads);
  std::vector<Blob> blobs;
  for (const auto& s : per_slice) blobs.insert(blobs.end(), s.begin(), s.end());
  return blobs;
}

AnatomyStats anatomy_stats(const core::VolumeI16& hu, const core::VolumeU8& lungs, const AnatomyStatsOptions& o) {
  o.validate();
  hu.geometry().validate("anatomy_stats: CT volume");
  XL_CHECK(lungs.dims() == hu.dims() && lungs.spacing().isApprox(hu.spacing()), "anatomy_stats: lung mask grid ",
           lungs.dims().transpose(), " at ", lungs.spacing().transpose(), " mm differs from the CT's ",
           hu.dims().transpose(), " at ", hu.spacing().transpose(), " mm");
  AnatomyStats s;
  s.spacing_mm = hu.spacing();
  const double voxel_ml = hu.spacing().prod() / 1000.0;
  const Eigen::Vector3i n = hu.dims();

  // The lungs' bounding box, with room for the largest LoG kernel.
  Eigen::Vector3i lo = n, hi = Eigen::Vector3i::Constant(-1);
  std::int64_t right = 0, left = 0;
  for (int k = 0; k < n.z(); ++k)
    for (int j = 0; j < n.y(); ++j)
      for (int i = 0; i < n.x(); ++i) {
        const auto l = lungs.at(i, j, k);
        if (l != kRightLung && l != kLeftLung) continue;
        (l == kRightLung ? right : left) += 1;
        lo = lo.cwiseMin(Eigen::Vector3i(i, j, k));
        hi = hi.cwiseMax(Eigen::Vector3i(i, j, k));
      }
  XL_CHECK(right + left > 0, "anatomy_stats: the lung mask is empty (no voxel labelled right or left lung)");
  s.right_lung_ml = right * voxel_ml;
  s.left_lung_ml = left * voxel_ml;
  const double litres = s.lung_litres();
  const double max_sigma =
      o.blob_diameters_mm.empty()
          ? 0.0
          : *std::max_element(o.blob_diameters_mm.begin(), o.blob_diameters_mm.end()) / (2 * std::sqrt(3.0));
  for (int a = 0; a < 3; ++a) {
    const int margin = int(std::ceil(4 * max_sigma / hu.spacing()[a])) + 1;
    lo[a] = std::max(0, lo[a] - margin);
    hi[a] = std::min(n[a] - 1, hi[a] + margin);
  }
  core::VolumeGeometry cg = hu.geometry();
  cg.dims = hi - lo + Eigen::Vector3i::Ones();
  cg.origin = hu.index_to_world(lo.cast<double>());
  core::VolumeU8 lung(cg, 0), vessel(cg, 0);
  std::vector<std::int64_t> counts(4096, 0);  // HU -1024 .. 3071 of the parenchyma
  std::int64_t vessel_voxels = 0;
  for (int k = 0; k < cg.dims.z(); ++k)
    for (int j = 0; j < cg.dims.y(); ++j)
      for (int i = 0; i < cg.dims.x(); ++i) {
        const auto l = lungs.at(lo.x() + i, lo.y() + j, lo.z() + k);
        if (l != kRightLung && l != kLeftLung) continue;
        const int v = hu.at(lo.x() + i, lo.y() + j, lo.z() + k);
        lung.at(i, j, k) = 1;
        if (v > o.vessel_hu) {
          vessel.at(i, j, k) = 1;
          ++vessel_voxels;
        } else {
          ++counts[std::clamp(v + 1024, 0, 4095)];
        }
      }
  s.vessel_fraction = double(vessel_voxels) / double(right + left);

  // Parenchyma HU.
  s.parenchyma_p05_hu = percentile(counts, -1024, 0.05);
  s.parenchyma_p50_hu = percentile(counts, -1024, 0.50);
  s.parenchyma_p95_hu = percentile(counts, -1024, 0.95);
  double sum = 0;
  std::int64_t total = 0;
  for (int b = 0; b < 4096; ++b) sum += double(b - 1024) * counts[b], total += counts[b];
  s.parenchyma_mean_hu = total ? sum / double(total) : 0;
  for (double e = o.histogram_lo_hu; e <= o.histogram_hi_hu + 1e-9; e += o.histogram_bin_hu)
    s.histogram_edges_hu.push_back(e);
  if (s.histogram_edges_hu.back() < o.histogram_hi_hu) s.histogram_edges_hu.push_back(o.histogram_hi_hu);
  s.histogram_share.assign(s.histogram_edges_hu.size() - 1, 0.0);
  for (int b = 0; b < 4096; ++b) {
    const double v = b - 1024;
    for (std::size_t h = 0; h + 1 < s.histogram_edges_hu.size(); ++h)
      if (v >= s.histogram_edges_hu[h] && v < s.histogram_edges_hu[h + 1]) s.histogram_share[h] += counts[b];
  }
  for (auto& h : s.histogram_share) h = total ? h / double(total) : 0;

  // Vessels: components, centrelines, radii, branch points.
  const std::vector<std::int64_t> sizes = component_sizes_26(vessel);
  s.vessel_components = int(sizes.size());
  s.components_per_litre = s.vessel_components / litres;
  s.component_edges_mm3 = kComponentEdgesMm3;
  s.components_per_litre_by_size.assign(s.component_edges_mm3.size() + 1, 0.0);
  const double voxel_mm3 = hu.geometry().spacing.prod();
  for (const std::int64_t n : sizes) {
    const auto& e = s.component_edges_mm3;
    s.components_per_litre_by_size[std::upper_bound(e.begin(), e.end(), n * voxel_mm3) - e.begin()] += 1 / litres;
  }
  const core::VolumeF distance = distance_to_outside_mm(vessel, true, o.threads);
  core::VolumeU8 skeleton = skeletonize(vessel, o.threads);
  const Centrelines c = measure_centrelines(skeleton, distance);
  s.centreline_mm = c.length_mm;
  s.branch_points = c.branch_points;
  s.spurs_pruned = c.spurs_pruned;
  s.branch_points_per_litre = c.branch_points / litres;
  s.radius_edges_mm = o.radius_edges_mm;
  s.radius_length_share.assign(o.radius_edges_mm.size(), 0.0);  // the last bin is open-ended
  std::vector<std::pair<double, double>> by_radius;
  double thick = 0;
  for (std::size_t p = 0; p < c.radius_mm.size(); ++p) {
    const double r = c.radius_mm[p], w = c.weight_mm[p];
    by_radius.push_back({r, w});
    if (r >= o.thick_radius_mm) thick += w;
    std::size_t b = std::upper_bound(o.radius_edges_mm.begin(), o.radius_edges_mm.end(), r) - o.radius_edges_mm.begin();
    s.radius_length_share[b == 0 ? 0 : b - 1] += w;
  }
  if (c.length_mm > 0) {
    for (auto& v : s.radius_length_share) v /= c.length_mm;
    s.thick_share = thick / c.length_mm;
    std::sort(by_radius.begin(), by_radius.end());
    double run = 0;
    for (const auto& [r, w] : by_radius)
      if ((run += w) >= 0.5 * c.length_mm) {
        s.median_radius_mm = r;
        break;
      }
  }

  // Blobs: outside the lungs the image is set to the parenchyma's median, so that the chest wall and the
  // mediastinum do not respond; what remains are the lungs' own structures.
  core::VolumeF image(cg, static_cast<float>(s.parenchyma_p50_hu));
  for (int k = 0; k < cg.dims.z(); ++k)
    for (int j = 0; j < cg.dims.y(); ++j)
      for (int i = 0; i < cg.dims.x(); ++i)
        if (lung.at(i, j, k)) image.at(i, j, k) = hu.at(lo.x() + i, lo.y() + j, lo.z() + k);
  for (double d : o.blob_diameters_mm) {
    const auto blobs = log_blobs(image, d, o.blob_min_response_hu, lung, o.threads);
    s.blobs.push_back({d, int(blobs.size()), blobs.size() / litres});
  }
  return s;
}

AnatomyStats anatomy_stats(const core::VolumeI16& hu, const AnatomyStatsOptions& o) {
  o.validate();
  const LungSegmentation seg = segment_lungs(hu, o.lungs);
  return anatomy_stats(hu, seg.labels, o);
}

nlohmann::json to_json(const AnatomyStats& s) {
  nlohmann::json blobs = nlohmann::json::array();
  for (const auto& b : s.blobs)
    blobs.push_back({{"diameter_mm", b.diameter_mm}, {"count", b.count}, {"per_litre", b.per_litre}});
  return {
      {"id", s.id},
      {"spacing_mm", {s.spacing_mm.x(), s.spacing_mm.y(), s.spacing_mm.z()}},
      {"lung_ml", {{"right", s.right_lung_ml}, {"left", s.left_lung_ml}, {"total", s.right_lung_ml + s.left_lung_ml}}},
      {"vessel_fraction", s.vessel_fraction},
      {"centreline",
       {{"length_mm", s.centreline_mm},
        {"median_radius_mm", s.median_radius_mm},
        {"thick_share", s.thick_share},
        {"radius_edges_mm", s.radius_edges_mm},
        {"radius_length_share", s.radius_length_share},
        {"spurs_pruned", s.spurs_pruned}}},
      {"vessel_components", s.vessel_components},
      {"vessel_components_per_litre", s.components_per_litre},
      {"vessel_components_by_size",
       {{"edges_mm3", s.component_edges_mm3}, {"per_litre", s.components_per_litre_by_size}}},
      {"branch_points", s.branch_points},
      {"branch_points_per_litre", s.branch_points_per_litre},
      {"blobs", blobs},
      {"parenchyma_hu",
       {{"mean", s.parenchyma_mean_hu},
        {"p05", s.parenchyma_p05_hu},
        {"p50", s.parenchyma_p50_hu},
        {"p95", s.parenchyma_p95_hu},
        {"histogram_edges", s.histogram_edges_hu},
        {"histogram_share", s.histogram_share}}}};
}

}  // namespace xraylift::data
