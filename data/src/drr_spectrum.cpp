// Radial power spectrum of the DRR lung fields (data/drr_spectrum.hpp, docs/data.md "Anatomy statistics").
#include "xraylift/data/drr_spectrum.hpp"

#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"

namespace xraylift::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

bool power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

// Iterative radix-2 Cooley-Tukey on `n` values spaced `stride` apart.
void fft_1d(std::complex<double>* a, int n, std::int64_t stride, bool inverse, std::vector<std::complex<double>>& buf) {
  buf.resize(n);
  for (int i = 0; i < n; ++i) buf[i] = a[i * stride];
  for (int i = 1, j = 0; i < n; ++i) {  // bit reversal
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(buf[i], buf[j]);
  }
  for (int len = 2; len <= n; len <<= 1) {
    const double ang = 2 * kPi / len * (inverse ? 1 : -1);
    const std::complex<double> wl(std::cos(ang), std::sin(ang));
    for (int i = 0; i < n; i += len) {
      std::complex<double> w(1);
      for (int j = 0; j < len / 2; ++j) {
        const std::complex<double> u = buf[i + j], v = buf[i + j + len / 2] * w;
        buf[i + j] = u + v;
        buf[i + j + len / 2] = u - v;
        w *= wl;
      }
    }
  }
  for (int i = 0; i < n; ++i) a[i * stride] = buf[i];
}

// beta = -slope of log power over log frequency, on the rings of the band.
double fit_beta(const std::vector<double>& frequency, const std::vector<double>& power, int roi,
                const SpectrumOptions& o) {
  double sx = 0, sy = 0, sxy = 0, sxx = 0;
  int used = 0;
  for (std::size_t k = 0; k < frequency.size(); ++k) {
    const double f = frequency[k], p = power[k];
    if (f * roi < o.band_lo_cycles - 1e-9 || f > o.band_hi_fraction + 1e-9 || p <= 0) continue;
    const double lx = std::log(f), ly = std::log(p);
    sx += lx, sy += ly, sxy += lx * ly, sxx += lx * lx, ++used;
  }
  XL_CHECK(used >= 3, "radial power spectrum: only ", used, " rings in the fitting band (ROI ", roi, " px)");
  return -(used * sxy - sx * sy) / (used * sxx - sx * sx);
}

}  // namespace

void fft_2d(std::vector<std::complex<double>>& a, int width, int height, bool inverse) {
  XL_CHECK(power_of_two(width) && power_of_two(height), "fft_2d: size ", width, " x ", height,
           ", expected powers of two");
  XL_CHECK(a.size() == std::size_t(width) * height, "fft_2d: ", a.size(), " values for ", width, " x ", height);
  std::vector<std::complex<double>> buf;
  for (int r = 0; r < height; ++r) fft_1d(a.data() + std::int64_t(r) * width, width, 1, inverse, buf);
  for (int c = 0; c < width; ++c) fft_1d(a.data() + c, height, width, inverse, buf);
}

PowerSpectrum radial_power_spectrum(const std::vector<float>& image, int width, int height,
                                    const std::vector<std::uint8_t>& field, const SpectrumOptions& o) {
  XL_CHECK(width > 0 && height > 0 && image.size() == std::size_t(width) * height,
           "radial_power_spectrum: ", image.size(), " pixels for ", width, " x ", height);
  XL_CHECK(field.empty() || field.size() == image.size(), "radial_power_spectrum: field of ", field.size(),
           " pixels, expected ", image.size());
  int roi = o.roi_px;
  if (roi == 0) {
    roi = 16;
    while (roi * 2 <= std::min(width, height) / 8) roi *= 2;
  }
  XL_CHECK(power_of_two(roi) && roi >= 8 && roi <= std::min(width, height), "radial_power_spectrum: roi_px = ", roi,
           ", expected a power of two in 8..", std::min(width, height));
  XL_CHECK(o.band_lo_cycles >= 1 && o.band_hi_fraction > o.band_lo_cycles / roi && o.band_hi_fraction <= 0.5,
           "radial_power_spectrum: band [", o.band_lo_cycles, " cycles/ROI, ", o.band_hi_fraction,
           " cycles/px] is empty or beyond Nyquist");
  // Prefix sums of the field count which ROIs lie wholly inside it.
  std::vector<std::int64_t> in((width + 1) * std::size_t(height + 1), 0);
  for (int r = 0; r < height; ++r)
    for (int c = 0; c < width; ++c)
      in[(r + 1) * std::size_t(width + 1) + c + 1] =
          in[r * std::size_t(width + 1) + c + 1] + in[(r + 1) * std::size_t(width + 1) + c] -
          in[r * std::size_t(width + 1) + c] + (field.empty() || field[r * std::size_t(width) + c] ? 1 : 0);
  auto inside = [&](int r0, int c0) {
    auto at = [&](int r, int c) { return in[r * std::size_t(width + 1) + c]; };
    return at(r0 + roi, c0 + roi) - at(r0, c0 + roi) - at(r0 + roi, c0) + at(r0, c0) == std::int64_t(roi) * roi;
  };
  std::vector<double> hann(roi);
  for (int i = 0; i < roi; ++i) hann[i] = 0.5 - 0.5 * std::cos(2 * kPi * (i + 0.5) / roi);
  const int rings = roi / 2;
  std::vector<double> ring_power(rings + 1, 0.0);
  std::vector<std::int64_t> ring_count(rings + 1, 0);
  PowerSpectrum ps;
  std::vector<std::complex<double>> a(std::size_t(roi) * roi);
  for (int r0 = 0; r0 + roi <= height; r0 += roi / 2)
    for (int c0 = 0; c0 + roi <= width; c0 += roi / 2) {
      if (!inside(r0, c0)) continue;
      // Least-squares plane a + b x + c y over the ROI (x, y centred: the normal equations decouple).
      double mean = 0, bx = 0, by = 0, sxx = 0;
      const double h = 0.5 * (roi - 1);
      for (int y = 0; y < roi; ++y)
        for (int x = 0; x < roi; ++x) {
          const double v = image[(r0 + y) * std::size_t(width) + c0 + x];
          mean += v, bx += v * (x - h), by += v * (y - h);
        }
      for (int x = 0; x < roi; ++x) sxx += (x - h) * (x - h);
      mean /= double(roi) * roi;
      bx /= sxx * roi;
      by /= sxx * roi;
      for (int y = 0; y < roi; ++y)
        for (int x = 0; x < roi; ++x) {
          const double v = image[(r0 + y) * std::size_t(width) + c0 + x] - mean - bx * (x - h) - by * (y - h);
          a[y * std::size_t(roi) + x] = v * hann[x] * hann[y];
        }
      fft_2d(a, roi, roi);
      for (int y = 0; y < roi; ++y)
        for (int x = 0; x < roi; ++x) {
          const int ky = y < roi / 2 ? y : y - roi, kx = x < roi / 2 ? x : x - roi;
          const int k = int(std::lround(std::sqrt(double(kx * kx + ky * ky))));
          if (k < 1 || k > rings) continue;
          ring_power[k] += std::norm(a[y * std::size_t(roi) + x]);
          ++ring_count[k];
        }
      ++ps.rois;
    }
  XL_CHECK(ps.rois > 0, "radial_power_spectrum: no ", roi, " x ", roi, " ROI lies wholly inside the field (", width,
           " x ", height, " image)");
  for (int k = 1; k <= rings; ++k) {
    ps.frequency.push_back(double(k) / roi);
    ps.power.push_back(ring_power[k] / std::max<std::int64_t>(1, ring_count[k]) / ps.rois);
  }
  ps.beta = fit_beta(ps.frequency, ps.power, roi, o);
  return ps;
}

std::vector<float> lung_path_length_mm(const core::VolumeU8& lungs, const core::Camera& camera) {
  lungs.geometry().validate("lung_path_length_mm: lung mask");
  const int w = camera.width(), h = camera.height();
  std::vector<float> path(std::size_t(w) * h, 0.0f);
  const double voxel_mm3 = lungs.spacing().prod();
  const double fx = camera.intrinsics().fx, fy = camera.intrinsics().fy;
  const Eigen::Vector3i n = lungs.dims();
  for (int k = 0; k < n.z(); ++k)
    for (int j = 0; j < n.y(); ++j)
      for (int i = 0; i < n.x(); ++i) {
        if (!lungs.at(i, j, k)) continue;
        const Eigen::Vector3d p = lungs.index_to_world(Eigen::Vector3d(i, j, k));
        const double z = camera.depth(p);
        if (z <= 0) continue;
        const Eigen::Vector2d uv = camera.project(p);
        const int c = int(std::floor(uv.x())), r = int(std::floor(uv.y()));
        if (c < 0 || r < 0 || c >= w || r >= h) continue;
        // A pixel covers (z / fx) x (z / fy) mm at depth z.
        path[r * std::size_t(w) + c] += static_cast<float>(voxel_mm3 * fx * fy / (z * z));
      }
  // Voxels larger than a pixel's footprint (thick slices) leave empty rows between the pixels they hit: a box
  // filter as wide as a voxel's projection spreads each contribution over its footprint (the sum is kept).
  const double centre_depth = camera.depth(lungs.geometry().center_world());
  const int radius =
      centre_depth > 0 ? int(std::ceil(0.5 * lungs.spacing().maxCoeff() * std::max(fx, fy) / centre_depth - 0.5)) : 0;
  if (radius > 0) {
    std::vector<float> tmp(path.size(), 0.0f);
    const float norm = 1.0f / float(2 * radius + 1);
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c)
        for (int t = -radius; t <= radius; ++t)
          if (c + t >= 0 && c + t < w) tmp[r * std::size_t(w) + c] += norm * path[r * std::size_t(w) + c + t];
    std::fill(path.begin(), path.end(), 0.0f);
    for (int r = 0; r < h; ++r)
      for (int t = -radius; t <= radius; ++t)
        if (r + t >= 0 && r + t < h)
          for (int c = 0; c < w; ++c) path[r * std::size_t(w) + c] += norm * tmp[(r + t) * std::size_t(w) + c];
  }
  return path;
}

DrrSpectrum drr_lung_spectrum(const core::ViewSet& views, const std::filesystem::path& views_json,
                              const core::VolumeU8& lungs, const SpectrumOptions& o) {
  XL_CHECK(!views.views.empty(), "'", views_json.string(), "': the view set holds no views");
  DrrSpectrum out;
  std::vector<double> sum_power;
  int rois = 0;
  for (std::size_t v = 0; v < views.views.size(); ++v) {
    const auto& view = views.views[v];
    XL_CHECK(!view.line_integral_path.empty(), "'", views_json.string(), "': cams[", v,
             "].line_integral_path is empty; expected the view's float line integrals (.npy)");
    const auto npy = core::read_npy(views_json.parent_path() / view.line_integral_path);
    const int w = view.camera.width(), h = view.camera.height();
    XL_CHECK(npy.shape.size() == 2 && npy.shape[0] == h && npy.shape[1] == w, "'",
             (views_json.parent_path() / view.line_integral_path).string(), "': shape does not match cams[", v, "] (",
             h, " x ", w, ")");
    const auto path = lung_path_length_mm(lungs, view.camera);
    const float longest = *std::max_element(path.begin(), path.end());
    std::vector<std::uint8_t> field(path.size(), 0);
    for (std::size_t p = 0; p < path.size(); ++p) field[p] = longest > 0 && path[p] >= o.field_fraction * longest;
    try {
      const PowerSpectrum ps = radial_power_spectrum(npy.data, w, h, field, o);
      out.view_beta.push_back(ps.beta);
      if (sum_power.empty()) {
        sum_power.assign(ps.power.size(), 0.0);
        out.mean.frequency = ps.frequency;
      }
      if (ps.power.size() == sum_power.size()) {
        for (std::size_t k = 0; k < sum_power.size(); ++k) sum_power[k] += ps.power[k] * ps.rois;
        rois += ps.rois;
      }
    } catch (const core::InputError&) {
      out.view_beta.push_back(0.0);  // no ROI in this view's lung field
    }
  }
  XL_CHECK(rois > 0, "'", views_json.string(), "': no view has a lung field large enough for a spectrum ROI");
  out.mean.rois = rois;
  for (double p : sum_power) out.mean.power.push_back(p / rois);
  out.mean.beta = fit_beta(out.mean.frequency, out.mean.power, int(std::lround(1.0 / out.mean.frequency.front())), o);
  return out;
}

}  // namespace xraylift::data
