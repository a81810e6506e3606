#include "xraylift/drr/dense_filter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"

namespace fs = std::filesystem;

namespace xraylift::drr {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kStepPx = 0.5;  // profile sample spacing

// Bilinear read at continuous pixel coordinates (pixel (c, r) has its centre at (c + 0.5, r + 0.5)); NaN outside
// the pixel centres' hull.
double sample(const std::vector<float>& img, int w, int h, double u, double v) {
  const double x = u - 0.5, y = v - 0.5;
  if (!(x >= 0 && y >= 0 && x <= w - 1 && y <= h - 1)) return std::numeric_limits<double>::quiet_NaN();
  const int x0 = std::min(int(x), w - 2 < 0 ? 0 : w - 2), y0 = std::min(int(y), h - 2 < 0 ? 0 : h - 2);
  const int x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
  const double fx = x - x0, fy = y - y0;
  const auto at = [&](int c, int r) { return double(img[std::size_t(r) * w + c]); };
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) + fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1));
}

struct Side {
  int k = 0;         // samples from the peak to the minimum
  double value = 0;  // the minimum
};

// The profile's value at (u, v): the mean over kBandPx pixels on either side across the profile's direction (d), so
// that the noise of a CT's voxels (15 HU per voxel in the phantoms: +-0.03 per pixel at 256 px, as much as a small
// nodule's signal) does not end a walk inside the object. Exact across a straight vessel; a sphere of radius R px
// reads ~(1 - 1 / (3 R^2)) of its chord.
constexpr int kBandPx = 1;
double band_sample(const std::vector<float>& img, int w, int h, double u, double v, double du, double dv) {
  double sum = 0;
  for (int o = -kBandPx; o <= kBandPx; ++o) sum += sample(img, w, h, u - o * dv, v + o * du);
  return sum / (2 * kBandPx + 1);
}

// The pixel noise around (c, r): the median absolute second difference along rows and columns (which cancels
// smooth structure) of the (2 reach + 1)^2 window, as a standard deviation (median |d2| = 0.6745 sqrt(6) sigma).
double pixel_noise(const std::vector<float>& img, int w, int h, int c, int r, int reach) {
  std::vector<double> d2;
  const auto at = [&](int x, int y) { return double(img[std::size_t(y) * w + x]); };
  for (int y = std::max(0, r - reach); y <= std::min(h - 1, r + reach); ++y)
    for (int x = std::max(0, c - reach); x <= std::min(w - 1, c + reach); ++x) {
      if (x >= 1 && x + 1 < w) d2.push_back(std::abs(at(x - 1, y) - 2 * at(x, y) + at(x + 1, y)));
      if (y >= 1 && y + 1 < h) d2.push_back(std::abs(at(x, y - 1) - 2 * at(x, y) + at(x, y + 1)));
    }
  if (d2.empty()) return 0;
  std::nth_element(d2.begin(), d2.begin() + std::ptrdiff_t(d2.size() / 2), d2.end());
  return d2[d2.size() / 2] * 1.4826 / std::sqrt(6.0);
}

// Walks from the peak along +-direction to where the profile stops falling:
//   - a rise above the lowest sample so far of more than 2 % of the depth so far, 0.2 % of the peak (the steps of a
//     CT's voxels) or 2 x the pixel noise;
//   - a fall over kFlatWindowMm below kFlatFraction of the steepest fall so far (the object's edge is passed and the
//     surroundings are flat: a vessel on the mediastinum's plateau ends at the plateau, not at its far edge);
//   - leaving the image, or max_k samples.
// The side ends at its lowest sample; profile[k] for k = 0 .. side.k (profile[0]: the band's value at the peak).
constexpr double kFlatFraction = 0.15;
constexpr double kFlatWindowMm = 1.5;  // falls are compared over this length (at least one pixel)
Side walk(const std::vector<float>& img, int w, int h, double u0, double v0, double du, double dv, int max_k,
          int window, double noise, std::vector<double>& profile) {
  const double peak = band_sample(img, w, h, u0, v0, du, dv);
  profile.assign(1, peak);
  Side s{0, peak};
  double steepest = 0;
  for (int k = 1; k <= max_k; ++k) {
    const double p = band_sample(img, w, h, u0 + k * kStepPx * du, v0 + k * kStepPx * dv, du, dv);
    if (std::isnan(p)) break;
    profile.push_back(p);
    if (p < s.value) s = {k, p};
    if (p > s.value + std::max({1e-4 + 2e-3 * std::abs(peak), 0.02 * (peak - s.value), 2 * noise})) break;
    if (k % window == 0) {
      const double fall = profile[std::size_t(k - window)] - p;
      if (steepest > 0 && fall < kFlatFraction * steepest) break;
      steepest = std::max(steepest, fall);
    }
  }
  profile.resize(std::size_t(s.k) + 1);
  return s;
}

void check_view(const DenseView& v, std::size_t index) {
  const auto& c = v.camera;
  XL_CHECK(c.width() > 0 && c.height() > 0, "dense filter: view ", index, " ('", c.name(),
           "') has no camera size; expected a camera with width and height > 0");
  XL_CHECK(v.line_integral.size() == std::size_t(c.width()) * std::size_t(c.height()), "dense filter: view ", index,
           " ('", c.name(), "') line_integral has ", v.line_integral.size(),
           " values, expected width x height = ", c.width(), " x ", c.height(), " = ",
           std::size_t(c.width()) * std::size_t(c.height()));
}

}  // namespace

namespace {

// The ranges of the options, for the config reader and validate() alike (the config reports its file and key).
struct Range {
  double lo, hi;
  bool contains(double v) const { return std::isfinite(v) && v >= lo && v <= hi; }
};
constexpr Range kMaxExcessHu{1, 1e5}, kMinViews{1, 1000}, kDirections{1, 64}, kSearchMm{0, 100}, kMaxRadiusMm{0.5, 500},
    kMinPeak{0, 10}, kMuWaterPerMm{1e-6, 1};

}  // namespace

void DenseFilterOptions::validate(const std::string& where) const {
  auto check = [&](const char* field, double v, Range r, const char* unit) {
    if (!r.contains(v))
      throw core::ConfigError(core::cat(where, ": ", field, " = ", v, ", expected ", r.lo, " .. ", r.hi, unit));
  };
  check("max_excess_hu", max_excess_hu, kMaxExcessHu, " (water-equivalent HU)");
  check("min_views", min_views, kMinViews, "");
  check("directions", directions, kDirections, "");
  check("search_mm", search_mm, kSearchMm, " (mm)");
  check("max_radius_mm", max_radius_mm, kMaxRadiusMm, " (mm)");
  check("min_peak", min_peak, kMinPeak, " (line-integral units)");
  check("mu_water_per_mm", mu_water_per_mm, kMuWaterPerMm, " (/mm)");
}

DenseFilterOptions DenseFilterOptions::from_config(const core::Config& s) {
  DenseFilterOptions o;
  o.enabled = s.get<bool>("enabled", o.enabled);
  o.max_excess_hu = s.get_in_range<double>("max_excess_hu", o.max_excess_hu, kMaxExcessHu.lo, kMaxExcessHu.hi);
  o.min_views = s.get_in_range<int>("min_views", o.min_views, int(kMinViews.lo), int(kMinViews.hi));
  o.directions = s.get_in_range<int>("directions", o.directions, int(kDirections.lo), int(kDirections.hi));
  o.search_mm = s.get_in_range<double>("search_mm", o.search_mm, kSearchMm.lo, kSearchMm.hi);
  o.max_radius_mm = s.get_in_range<double>("max_radius_mm", o.max_radius_mm, kMaxRadiusMm.lo, kMaxRadiusMm.hi);
  o.min_peak = s.get_in_range<double>("min_peak", o.min_peak, kMinPeak.lo, kMinPeak.hi);
  s.check_section_keys(
      {"enabled", "max_excess_hu", "min_views", "directions", "search_mm", "max_radius_mm", "min_peak"});
  return o;
}

std::vector<DenseView> dense_views(const fs::path& infos, double* mu_water_per_mm) {
  const core::ViewSet set = core::read_view_set(infos);
  XL_CHECK(!set.views.empty(), "dense filter: ", infos.string(), " has no views (cams); expected one per image");
  if (mu_water_per_mm && set.render.contains("mu_water_per_mm")) {
    const auto& m = set.render["mu_water_per_mm"];
    XL_CHECK(m.is_number() && std::isfinite(m.get<double>()) && m.get<double>() > 0, "dense filter: ", infos.string(),
             ": render.mu_water_per_mm = ", m.dump(), ", expected a number > 0 (/mm)");
    *mu_water_per_mm = m.get<double>();
  }
  std::vector<DenseView> out;
  for (const auto& v : set.views) {
    XL_CHECK(!v.line_integral_path.empty(), "dense filter: ", infos.string(), ": view ", v.camera.name(),
             " has no line_integral_path; expected the view's float line integrals (.npy)");
    fs::path li = v.line_integral_path;
    if (li.is_relative()) li = infos.parent_path() / li;
    out.push_back({v.camera, core::read_line_integrals(li, v.camera.height(), v.camera.width()).data});
  }
  return out;
}

DenseEstimate estimate_dense_excess(const std::vector<DenseView>& views, const Eigen::Vector3d& centre,
                                    const DenseFilterOptions& o) {
  XL_CHECK(centre.allFinite(), "dense filter: centre (", centre.x(), ", ", centre.y(), ", ", centre.z(),
           ") mm, expected finite world coordinates");
  DenseEstimate est;
  std::vector<double> plus, minus;
  for (std::size_t vi = 0; vi < views.size(); ++vi) {
    const DenseView& view = views[vi];
    check_view(view, vi);
    const auto& cam = view.camera;
    const int w = cam.width(), h = cam.height();
    const double depth = cam.depth(centre);
    if (!(depth > 0)) continue;
    const Eigen::Vector2d uv = cam.project(centre);
    if (!cam.in_image(uv)) continue;
    const double mm_per_px = depth / cam.intrinsics().fx;
    // The peak: the brightest pixel whose centre lies within search_mm of the projected centre (at least the
    // pixel under it).
    const double rs = o.search_mm / mm_per_px;
    const int c0 = std::clamp(int(std::floor(uv.x())), 0, w - 1), r0 = std::clamp(int(std::floor(uv.y())), 0, h - 1);
    int best_c = c0, best_r = r0;
    const int reach = int(std::ceil(rs));
    for (int r = std::max(0, r0 - reach); r <= std::min(h - 1, r0 + reach); ++r)
      for (int c = std::max(0, c0 - reach); c <= std::min(w - 1, c0 + reach); ++c) {
        const float value = view.line_integral[std::size_t(r) * w + c];
        XL_CHECK(std::isfinite(value), "dense filter: view ", vi, " ('", cam.name(), "') pixel (", c, ", ", r,
                 ") = ", value, ", expected finite line integrals");
        const double du = c + 0.5 - uv.x(), dv = r + 0.5 - uv.y();
        if (du * du + dv * dv > rs * rs && !(c == c0 && r == r0)) continue;
        if (value > view.line_integral[std::size_t(best_r) * w + best_c]) best_c = c, best_r = r;
      }
    const double u0 = best_c + 0.5, v0 = best_r + 0.5;
    const double noise =
        pixel_noise(view.line_integral, w, h, best_c, best_r, std::max(3, int(std::ceil(8.0 / mm_per_px))));
    const int max_k = std::max(2, int(std::ceil(o.max_radius_mm / mm_per_px / kStepPx)));
    // Whole pixels (bilinear samples fall in equal steps between two pixel centres), at least kFlatWindowMm.
    const int window = 2 * std::max(1, int(std::lround(kFlatWindowMm / mm_per_px)));
    std::optional<DenseViewEstimate> best;
    for (int d = 0; d < o.directions; ++d) {
      const double a = kPi * d / o.directions, du = std::cos(a), dv = std::sin(a);
      const Side sp = walk(view.line_integral, w, h, u0, v0, du, dv, max_k, window, noise, plus);
      const Side sm = walk(view.line_integral, w, h, u0, v0, -du, -dv, max_k, window, noise, minus);
      if (sp.k == 0 || sm.k == 0) continue;  // not a peak along this direction
      const int n = sp.k + sm.k;
      const auto base = [&](int k) { return sm.value + (sp.value - sm.value) * double(k + sm.k) / n; };
      const double peak = 0.5 * (plus[0] + minus[0]);  // the same band value
      const double height = peak - base(0);
      if (!(height > o.min_peak)) continue;
      double area = 0;  // trapezoid rule; the ends are on the baseline
      for (int k = 1; k <= sp.k; ++k) area += plus[std::size_t(k)] - base(k);
      for (int k = 1; k <= sm.k; ++k) area += minus[std::size_t(k)] - base(-k);
      area += height;
      area *= kStepPx * mm_per_px;
      if (!(area > 0)) continue;
      const double mu = kPi * height * height / (4 * area);
      const double hu = 1000.0 * mu / o.mu_water_per_mm;
      if (!best || hu > best->excess_hu) best = DenseViewEstimate{cam.name(), hu, height, 4 * area / (kPi * height)};
    }
    if (!best) continue;
    est.per_view.push_back(*best);
    ++est.views;
    if (!est.excess_hu || best->excess_hu < *est.excess_hu) {
      est.excess_hu = best->excess_hu;
      est.min_view = best->view;
      est.width_mm = best->width_mm;
    }
  }
  return est;
}

DenseFilterResult filter_dense(const std::vector<core::BoxRecord>& boxes, const std::vector<DenseView>& views,
                               const DenseFilterOptions& o) {
  o.validate("dense filter");
  XL_CHECK(!views.empty(), "dense filter: no views; expected the case's views with their line integrals");
  for (std::size_t v = 0; v < views.size(); ++v) check_view(views[v], v);
  DenseFilterResult out;
  for (const auto& b : boxes) {
    XL_CHECK(b.box.center.allFinite() && b.box.size.allFinite(), "dense filter: box '", b.id,
             "' has a non-finite centre or size; expected finite world mm");
    DenseEstimate e = estimate_dense_excess(views, b.box.center, o);
    const bool reject = o.enabled && e.excess_hu && e.views >= o.min_views && *e.excess_hu > o.max_excess_hu;
    (reject ? out.removed : out.kept).push_back(b);
    out.rejected.push_back(reject);
    out.estimates.push_back(std::move(e));
  }
  return out;
}

}  // namespace xraylift::drr
