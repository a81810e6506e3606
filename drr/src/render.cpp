// CPU reference renderer (the twin of render_cuda.cu): the per-ray math lives in ray_math.hpp, evaluated here in
// double precision by core::parallel_for over the rows of all views.
#include "xraylift/drr/render.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <random>

#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/parallel.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/drr/cuda_backend.hpp"

namespace xraylift::drr {

namespace {

// Rows handed to a worker at a time: small enough to balance views of different cost.
constexpr std::int64_t kRowsPerTask = 4;

template <typename Hu>
core::VolumeF to_attenuation(const core::Volume<Hu>& hu, const RenderOptions& options) {
  XL_CHECK(!hu.empty(), "drr: the volume is empty (no voxels)");
  hu.geometry().validate("drr: volume");
  XL_CHECK(hu.size() == hu.geometry().voxel_count(), "drr: volume holds ", hu.size(), " values but its dims (",
           hu.dims().transpose(), ") need ", hu.geometry().voxel_count());
  options.validate();
  const AttenuationModel model = options.attenuation();
  core::VolumeF mu(hu.geometry());
  const Hu* in = hu.data();
  float* out = mu.data();
  const std::int64_t slice = std::int64_t(hu.dims().x()) * hu.dims().y();
  std::atomic<std::int64_t> first_bad{-1};
  core::parallel_for(
      hu.dims().z(),
      [&](std::int64_t k) {
        for (std::int64_t n = k * slice; n < (k + 1) * slice; ++n) {
          const float v = static_cast<float>(in[n]);
          if (!std::isfinite(v)) {
            std::int64_t expected = -1;
            first_bad.compare_exchange_strong(expected, n);
            out[n] = 0.0f;
            continue;
          }
          out[n] = hu_to_mu(v, model);
        }
      },
      options.threads, kRowsPerTask);
  XL_CHECK(first_bad.load() < 0, "drr: volume voxel ", first_bad.load(), " is not finite");
  return mu;
}

// The support box: the smallest block of voxels holding every voxel with mu > 0, plus a margin of one (zero)
// voxel, clamped to the grid (index box [lo, hi], inclusive): rays through air add nothing, so Siddon is unchanged
// and trilinear samples the same field (the margin keeps its fall-off to 0). The CUDA twin computes the same box
// on the device (render_cuda.cu) and clips its rays to it.
void support_box(const core::VolumeF& mu, int threads, Eigen::Vector3i& a, Eigen::Vector3i& b) {
  const Eigen::Vector3i dims = mu.dims();
  std::vector<Eigen::Vector3i> lo(dims.z(), dims), hi(dims.z(), Eigen::Vector3i::Constant(-1));
  core::parallel_for(
      dims.z(),
      [&](std::int64_t k) {
        for (int j = 0; j < dims.y(); ++j) {
          const float* row = mu.data() + mu.linear(0, j, static_cast<int>(k));
          for (int i = 0; i < dims.x(); ++i) {
            if (!(row[i] > 0.0f)) continue;
            lo[k] = lo[k].cwiseMin(Eigen::Vector3i(i, j, static_cast<int>(k)));
            hi[k] = hi[k].cwiseMax(Eigen::Vector3i(i, j, static_cast<int>(k)));
          }
        }
      },
      threads, kRowsPerTask);
  a = dims;
  b = Eigen::Vector3i::Constant(-1);
  for (int k = 0; k < dims.z(); ++k) {
    a = a.cwiseMin(lo[k]);
    b = b.cwiseMax(hi[k]);
  }
  if (b.x() < 0) a = b = Eigen::Vector3i::Zero();  // all air: one voxel is enough
  a = (a - Eigen::Vector3i::Ones()).cwiseMax(Eigen::Vector3i::Zero());
  b = (b + Eigen::Vector3i::Ones()).cwiseMin(dims - Eigen::Vector3i::Ones());
}

// Copies the support box [a, b] out of mu when that saves at least 5% of the voxels (returns false otherwise:
// the caller keeps the volume and clips its rays to the box instead, clip_ray_to_cells).
bool crop_to_support(const core::VolumeF& mu, const Eigen::Vector3i& a, const Eigen::Vector3i& b,
                     core::VolumeF& cropped) {
  const Eigen::Vector3i size = b - a + Eigen::Vector3i::Ones();
  const double kept = double(size.x()) * size.y() * size.z() / double(mu.geometry().voxel_count());
  if (kept > 0.95) return false;
  core::VolumeGeometry g = mu.geometry();
  g.origin = mu.index_to_world(a.cast<double>());
  g.dims = size;
  cropped = core::VolumeF(g);
  for (int k = 0; k < size.z(); ++k)
    for (int j = 0; j < size.y(); ++j)
      std::copy_n(mu.data() + mu.linear(a.x(), a.y() + j, a.z() + k), size.x(),
                  cropped.data() + cropped.linear(0, j, k));
  return true;
}

bool view_sees_box(const core::Camera& cam, const core::Box3D& box) {
  bool all_in_front = true;
  for (const auto& c : box.corners()) all_in_front = all_in_front && cam.depth(c) > 1e-6;
  if (all_in_front) return core::project_box(cam, box).visible;
  // The box straddles the source plane: probe a coarse grid of rays.
  const core::PinholeF pod = cam.to_pod();
  const double lo[3] = {box.min().x(), box.min().y(), box.min().z()};
  const double hi[3] = {box.max().x(), box.max().y(), box.max().z()};
  const int probes = 64;
  for (int a = 0; a <= probes; ++a) {
    for (int b = 0; b <= probes; ++b) {
      const auto ray = camera_ray<double>(pod, static_cast<float>(cam.width() * a / double(probes)),
                                          static_cast<float>(cam.height() * b / double(probes)));
      double a0, a1;
      if (clip_ray_to_box(ray, lo, hi, a0, a1)) return true;
    }
  }
  return false;
}

void check_images_shape(const core::Rig& rig) {
  const int w = rig[0].width(), h = rig[0].height();
  for (const auto& cam : rig) {
    XL_CHECK(cam.width() == w && cam.height() == h, "drr: camera '", cam.name(), "' is ", cam.width(), " x ",
             cam.height(), " but camera '", rig[0].name(), "' is ", w, " x ", h,
             "; all views of one render must share the image size");
  }
}

void render_mask(const core::Rig& rig, const std::vector<core::BoxRecord>& nodules, int threads, DrrImages& out) {
  out.nodule_label.assign(out.line_integral.size(), 0);
  out.nodule_path_mm.assign(out.line_integral.size(), 0.0f);
  if (nodules.empty()) return;
  std::vector<std::array<double, 6>> boxes;
  for (std::size_t n = 0; n < nodules.size(); ++n) {
    core::validate_box(nodules[n].box, core::cat("drr: nodule ", n, " ('", nodules[n].id, "')"));
    const auto lo = nodules[n].box.min(), hi = nodules[n].box.max();
    boxes.push_back({lo.x(), lo.y(), lo.z(), hi.x(), hi.y(), hi.z()});
  }
  XL_CHECK(nodules.size() < 65535, "drr: ", nodules.size(), " nodules; the label image holds at most 65534");
  std::vector<core::PinholeF> pods;
  for (const auto& cam : rig) pods.push_back(cam.to_pod());
  const int H = out.height, W = out.width;
  core::parallel_for(
      std::int64_t(out.views) * H,
      [&](std::int64_t r) {
        const int v = static_cast<int>(r / H), row = static_cast<int>(r % H);
        const std::size_t base = (std::size_t(v) * H + row) * W;
        for (int col = 0; col < W; ++col) {
          const auto ray = camera_ray<double>(pods[v], col + 0.5f, row + 0.5f);
          double best = 0, total = 0;
          int label = 0;
          for (std::size_t n = 0; n < boxes.size(); ++n) {
            double a0, a1;
            if (!clip_ray_to_box(ray, boxes[n].data(), boxes[n].data() + 3, a0, a1)) continue;
            const double chord = a1 - a0;
            total += chord;
            if (chord > best) {
              best = chord;
              label = static_cast<int>(n) + 1;
            }
          }
          out.nodule_label[base + col] = static_cast<std::uint16_t>(label);
          out.nodule_path_mm[base + col] = static_cast<float>(total);
        }
      },
      threads, kRowsPerTask);
}

// mu with one edge-replicated voxel on every side (see trilinear_sample_padded).
// With `half`, the values are rounded to binary16 (the CUDA half texture, RenderOptions::half_texture).
std::vector<float> pad_edges(const core::VolumeF& mu, bool half) {
  const int nx = mu.dims().x(), ny = mu.dims().y(), nz = mu.dims().z();
  const long long px = nx + 2, py = ny + 2;
  std::vector<float> out(static_cast<std::size_t>(px * py * (nz + 2)));
  for (int k = -1; k <= nz; ++k)
    for (int j = -1; j <= ny; ++j) {
      const float* src = mu.data() + mu.linear(0, std::clamp(j, 0, ny - 1), std::clamp(k, 0, nz - 1));
      float* dst = out.data() + (j + 1) * px + (k + 1) * px * py;
      dst[0] = src[0];
      std::copy_n(src, nx, dst + 1);
      dst[nx + 1] = src[nx - 1];
    }
  if (half)
    for (float& v : out) v = round_to_half(v);
  return out;
}

}  // namespace

core::VolumeF attenuation_volume(const core::VolumeI16& hu, const RenderOptions& options) {
  return to_attenuation(hu, options);
}
core::VolumeF attenuation_volume(const core::VolumeF& hu, const RenderOptions& options) {
  return to_attenuation(hu, options);
}

GridF grid_of(const core::VolumeGeometry& g, const char* where) {
  g.validate(where);
  XL_CHECK(g.axis_aligned(), where, ": the volume direction is not the identity; reorient it to LPS first");
  const core::Box3D bounds = g.world_bounds();
  GridF grid{};
  grid.nx = g.dims.x();
  grid.ny = g.dims.y();
  grid.nz = g.dims.z();
  for (int a = 0; a < 3; ++a) {
    grid.lo[a] = static_cast<float>(bounds.min()(a));
    grid.spacing[a] = static_cast<float>(g.spacing(a));
  }
  return grid;
}

void validate_rig_for_volume(const core::Rig& rig, const core::VolumeGeometry& geometry) {
  XL_CHECK(!rig.empty(), "drr: the rig has no cameras");
  const core::Box3D bounds = geometry.world_bounds();
  for (const auto& cam : rig) {
    const Eigen::Vector3d s = cam.source();
    XL_CHECK(s.allFinite(), "drr: camera '", cam.name(), "' has a non-finite source position");
    XL_CHECK(!bounds.contains(s), "drr: camera '", cam.name(), "' has its source at (", s.transpose(),
             ") mm, inside the volume box [", bounds.min().transpose(), "] - [", bounds.max().transpose(),
             "]; move the source outside (e.g. a larger sad_mm)");
    XL_CHECK(view_sees_box(cam, bounds), "drr: camera '", cam.name(), "' sees nothing of the volume box [",
             bounds.min().transpose(), "] - [", bounds.max().transpose(),
             "] mm; check the rig pose, the detector size and the volume placement");
  }
}

DrrImages render_attenuation(const core::VolumeF& mu, const core::Rig& rig, const RenderOptions& options,
                             const std::vector<core::BoxRecord>& nodules) {
  options.validate();
  XL_CHECK(!mu.empty(), "drr: the volume is empty (no voxels)");
  grid_of(mu.geometry(), "drr: volume");  // validates
  XL_CHECK(mu.size() == mu.geometry().voxel_count(), "drr: volume holds ", mu.size(), " values but its dims need ",
           mu.geometry().voxel_count());
  validate_rig_for_volume(rig, mu.geometry());
  check_images_shape(rig);

  const int threads = core::thread_count(options.threads);
  core::VolumeF cropped;
  const auto t_crop = std::chrono::steady_clock::now();
  Eigen::Vector3i box_lo, box_hi;
  support_box(mu, threads, box_lo, box_hi);
  const bool was_cropped = crop_to_support(mu, box_lo, box_hi, cropped);
  const core::VolumeF& support = was_cropped ? cropped : mu;
  // Rays are clipped to the support box in the grid rendered from (the whole grid once cropped).
  int cell_lo[3], cell_hi[3];
  for (int a = 0; a < 3; ++a) {
    cell_lo[a] = was_cropped ? 0 : box_lo(a);
    cell_hi[a] = was_cropped ? support.dims()(a) : box_hi(a) + 1;
  }
  core::log::debug("drr: support crop ", mu.dims().transpose(), " -> ", support.dims().transpose(), " in ",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t_crop).count() * 1e3, " ms");
  const GridF support_grid = grid_of(support.geometry(), "drr: cropped volume");

  DrrImages out;
  out.views = static_cast<int>(rig.size());
  out.height = rig[0].height();
  out.width = rig[0].width();
  out.line_integral.assign(std::size_t(out.views) * out.view_pixels(), 0.0f);
  std::vector<core::PinholeF> pods;
  for (const auto& cam : rig) pods.push_back(cam.to_pod());
  const double step_mm = options.trilinear_step_mm(mu.spacing().minCoeff());

  if (options.device == Device::kCuda) {
    XL_CHECK(cuda::available(), "drr: device 'cuda' was asked for but no CUDA device is usable here");
    cuda::VolumeOptions vo;
    vo.siddon = options.integrator == Integrator::kSiddon;
    vo.trilinear = !vo.siddon;
    vo.half_texture = options.half_texture;
    cuda::CudaVolume volume(support.data(), support_grid, /*host_pointer=*/true, vo);
    cuda::KernelOptions k;
    k.integrator = options.integrator;
    k.step_mm = static_cast<float>(step_mm);
    out.line_integral = volume.render_to_host(pods, k);
  } else {
    const float* data = support.data();
    const GridF& grid = support_grid;
    const int H = out.height, W = out.width;
    const bool siddon = options.integrator == Integrator::kSiddon;
    const std::vector<float> padded = siddon ? std::vector<float>() : pad_edges(support, options.half_texture);
    const int px = grid.nx + 2;
    const long long pxy = static_cast<long long>(grid.nx + 2) * (grid.ny + 2);
    const int upper[3] = {grid.nx, grid.ny, grid.nz};
    core::parallel_for(
        std::int64_t(out.views) * H,
        [&](std::int64_t r) {
          const int v = static_cast<int>(r / H), row = static_cast<int>(r % H);
          float* dst = out.line_integral.data() + (std::size_t(v) * H + row) * W;
          for (int col = 0; col < W; ++col) {
            const auto ray = camera_ray<double>(pods[v], col + 0.5f, row + 0.5f);
            double a0, a1;
            if (!clip_ray_to_cells(ray, grid, cell_lo, cell_hi, a0, a1)) continue;
            const double value = siddon
                                     ? siddon_integral(data, ray, grid, a0, a1)
                                     : march_integral(ray, grid, a0, a1, step_mm, [&](double gx, double gy, double gz) {
                                         // Float interpolation weights (as the texture unit), double accumulation.
                                         return static_cast<double>(trilinear_sample_padded<float>(
                                             padded.data(), px, pxy, upper, static_cast<float>(gx),
                                             static_cast<float>(gy), static_cast<float>(gz)));
                                       });
            dst[col] = static_cast<float>(value);
          }
        },
        threads, kRowsPerTask);
  }
  core::log::debug("drr: ", out.views, " x ", out.height, " x ", out.width, " rays (", to_string(options.integrator),
                   ", ", to_string(options.device), ") in ",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t_crop).count() * 1e3, " ms");
  if (options.mask) render_mask(rig, nodules, threads, out);
  return out;
}

DrrImages render(const core::VolumeI16& hu, const core::Rig& rig, const RenderOptions& options,
                 const std::vector<core::BoxRecord>& nodules) {
  return render_attenuation(attenuation_volume(hu, options), rig, options, nodules);
}

DrrImages render(const core::VolumeF& hu, const core::Rig& rig, const RenderOptions& options,
                 const std::vector<core::BoxRecord>& nodules) {
  return render_attenuation(attenuation_volume(hu, options), rig, options, nodules);
}

std::vector<float> transmission(const DrrImages& images, double photons, std::uint64_t seed) {
  XL_CHECK(std::isfinite(photons) && photons >= 0, "drr: photons = ", photons, ", expected a finite value >= 0");
  std::vector<float> out(images.line_integral.size());
  std::mt19937_64 rng(seed);
  for (std::size_t n = 0; n < out.size(); ++n) {
    const double t = std::exp(-static_cast<double>(images.line_integral[n]));
    if (photons > 0) {
      const double mean = photons * t;
      if (!(mean > 0)) {
        out[n] = 0.0f;
        continue;
      }
      std::poisson_distribution<long long> counts(mean);
      out[n] = static_cast<float>(static_cast<double>(counts(rng)) / photons);
    } else {
      out[n] = static_cast<float>(t);
    }
  }
  return out;
}

}  // namespace xraylift::drr
