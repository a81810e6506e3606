#include "xraylift/drr/lung_fields.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/drr/render.hpp"

namespace xraylift::drr {

namespace {

void config_check(bool ok, const std::string& what) {
  if (!ok) throw core::ConfigError("lung fields: " + what);
}

// 8-connected components of a mask; returns the label image (0 = background) and the area per label (index 0 unused).
std::vector<int> components(const Mask2D& m, std::vector<std::size_t>& area) {
  std::vector<int> label(m.pixels.size(), 0);
  area.assign(1, 0);
  std::vector<int> stack;
  for (int start = 0; start < int(m.pixels.size()); ++start) {
    if (!m.pixels[start] || label[start]) continue;
    const int id = int(area.size());
    area.push_back(0);
    stack.assign(1, start);
    label[start] = id;
    while (!stack.empty()) {
      const int p = stack.back();
      stack.pop_back();
      ++area[id];
      const int r = p / m.width, c = p % m.width;
      for (int dr = -1; dr <= 1; ++dr)
        for (int dc = -1; dc <= 1; ++dc) {
          const int rr = r + dr, cc = c + dc;
          if (rr < 0 || rr >= m.height || cc < 0 || cc >= m.width) continue;
          const int q = rr * m.width + cc;
          if (m.pixels[q] && !label[q]) label[q] = id, stack.push_back(q);
        }
    }
  }
  return label;
}

// Keeps the `keep` largest components of at least `fraction` of the largest.
void keep_largest(Mask2D& m, int keep, double fraction) {
  std::vector<std::size_t> area;
  const std::vector<int> label = components(m, area);
  std::vector<int> order(area.size() - 1);
  std::iota(order.begin(), order.end(), 1);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return area[a] > area[b]; });
  std::vector<std::uint8_t> kept(area.size(), 0);
  for (int i = 0; i < int(order.size()) && i < keep; ++i)
    if (double(area[order[i]]) >= fraction * double(area[order[0]])) kept[order[i]] = 1;
  for (std::size_t p = 0; p < m.pixels.size(); ++p) m.pixels[p] = kept[label[p]];
}

// Background not connected (4-connected) to the image border becomes foreground.
void fill_holes(Mask2D& m) {
  std::vector<std::uint8_t> outside(m.pixels.size(), 0);
  std::vector<int> stack;
  auto seed = [&](int r, int c) {
    const int p = r * m.width + c;
    if (!m.pixels[p] && !outside[p]) outside[p] = 1, stack.push_back(p);
  };
  for (int c = 0; c < m.width; ++c) seed(0, c), seed(m.height - 1, c);
  for (int r = 0; r < m.height; ++r) seed(r, 0), seed(r, m.width - 1);
  while (!stack.empty()) {
    const int p = stack.back();
    stack.pop_back();
    const int r = p / m.width, c = p % m.width;
    if (r > 0) seed(r - 1, c);
    if (r + 1 < m.height) seed(r + 1, c);
    if (c > 0) seed(r, c - 1);
    if (c + 1 < m.width) seed(r, c + 1);
  }
  for (std::size_t p = 0; p < m.pixels.size(); ++p) m.pixels[p] = !outside[p];
}

// Square structuring element of half size r, separable; outside the image counts as background for dilation and
// erosion alike (so a field touching the border is eroded there: the lungs never reach the image edge).
void morph(Mask2D& m, int r, bool dilate) {
  if (r <= 0) return;
  std::vector<std::uint8_t> tmp(m.pixels.size());
  for (int pass = 0; pass < 2; ++pass) {
    const std::vector<std::uint8_t>& src = pass == 0 ? m.pixels : tmp;
    std::vector<std::uint8_t>& dst = pass == 0 ? tmp : m.pixels;
    std::vector<std::uint8_t> copy = src;
    for (int row = 0; row < m.height; ++row)
      for (int col = 0; col < m.width; ++col) {
        bool any = false, all = true;
        for (int d = -r; d <= r; ++d) {
          const int rr = pass == 0 ? row : row + d, cc = pass == 0 ? col + d : col;
          const bool in = rr >= 0 && rr < m.height && cc >= 0 && cc < m.width && copy[std::size_t(rr) * m.width + cc];
          any = any || in, all = all && in;
        }
        dst[std::size_t(row) * m.width + col] = dilate ? any : all;
      }
  }
}

}  // namespace

std::size_t Mask2D::count() const { return std::size_t(std::count(pixels.begin(), pixels.end(), 1)); }

void LungFieldOptions::validate() const {
  config_check(std::isfinite(body_threshold) && body_threshold > 0,
               core::cat("body_threshold ", body_threshold, ": expected > 0"));
  config_check(std::isfinite(body_margin) && body_margin >= 0 && body_margin < 0.5,
               core::cat("body_margin ", body_margin, ": expected [0, 0.5)"));
  config_check(std::isfinite(mu_water_per_mm) && mu_water_per_mm > 0,
               core::cat("mu_water_per_mm ", mu_water_per_mm, ": expected > 0"));
  config_check(std::isfinite(min_deficit_mm) && min_deficit_mm >= 0,
               core::cat("min_deficit_mm ", min_deficit_mm, ": expected >= 0"));
  config_check(std::isfinite(min_deficit_fraction) && min_deficit_fraction >= 0 && min_deficit_fraction < 1,
               core::cat("min_deficit_fraction ", min_deficit_fraction, ": expected [0, 1)"));
  config_check(open_px >= 0 && open_px <= 32 && close_px >= 0 && close_px <= 32,
               core::cat("open_px ", open_px, " / close_px ", close_px, ": expected 0 .. 32"));
  config_check(max_components >= 1, core::cat("max_components ", max_components, ": expected >= 1"));
  config_check(min_component_fraction >= 0 && min_component_fraction <= 1,
               core::cat("min_component_fraction ", min_component_fraction, ": expected [0, 1]"));
}

Mask2D body_field(const float* L, int width, int height, const LungFieldOptions& o) {
  o.validate();
  XL_CHECK(L && width > 0 && height > 0, "lung field: an empty image (", width, " x ", height, ")");
  const std::size_t n = std::size_t(width) * height;
  for (std::size_t p = 0; p < n; ++p)
    XL_CHECK(std::isfinite(L[p]), "lung field: pixel ", p % width, ", ", p / width, " is ", L[p], "; expected finite");
  Mask2D body{width, height, std::vector<std::uint8_t>(n)};
  for (std::size_t p = 0; p < n; ++p) body.pixels[p] = L[p] > o.body_threshold;
  keep_largest(body, 1, 0);
  fill_holes(body);
  return body;
}

Mask2D lung_field(const float* L, const Mask2D& body, const float* T, const LungFieldOptions& o) {
  o.validate();
  const int width = body.width, height = body.height;
  XL_CHECK(L && T && width > 0 && height > 0 && body.pixels.size() == std::size_t(width) * height,
           "lung field: an empty image or body field (", width, " x ", height, ")");
  const std::size_t n = body.pixels.size();
  Mask2D inner = body;
  morph(inner, int(std::lround(o.body_margin * width)), false);
  Mask2D field{width, height, std::vector<std::uint8_t>(n, 0)};
  for (std::size_t p = 0; p < n; ++p) {
    XL_CHECK(std::isfinite(L[p]) && std::isfinite(T[p]), "lung field: pixel ", p % width, ", ", p / width, ": L ", L[p],
             ", body path ", T[p], " mm; expected finite");
    const double deficit = double(T[p]) - double(L[p]) / o.mu_water_per_mm;
    field.pixels[p] = inner.pixels[p] && deficit > o.min_deficit_mm && deficit > o.min_deficit_fraction * T[p];
  }
  clean_up_lung_field(field, o);
  return field;
}

void clean_up_lung_field(Mask2D& field, const LungFieldOptions& o) {
  o.validate();
  XL_CHECK(field.width > 0 && field.height > 0 && field.pixels.size() == std::size_t(field.width) * field.height,
           "lung field clean-up: an empty or inconsistent mask (", field.width, " x ", field.height, ", ",
           field.pixels.size(), " pixels)");
  const double scale = field.width / 256.0;  // pixel radii are stated at 256 px
  auto px = [&](double r) { return int(std::lround(r * scale)); };
  morph(field, px(o.open_px), false);
  morph(field, px(o.open_px), true);
  keep_largest(field, o.max_components, o.min_component_fraction);
  morph(field, px(o.close_px), true);
  morph(field, px(o.close_px), false);
  fill_holes(field);
}

std::vector<std::vector<float>> projected_lung_paths(const core::VolumeU8& labels,
                                                     const std::vector<core::Camera>& cameras) {
  XL_CHECK(!labels.empty(), "projected lung paths: empty lung mask");
  core::VolumeF mu(labels.geometry(), 0.0f);
  for (std::size_t p = 0; p < mu.values().size(); ++p) mu.values()[p] = labels.values()[p] != 0 ? 1.0f : 0.0f;
  RenderOptions options;  // Siddon: exact path lengths through the voxels
  const DrrImages img = render_attenuation(mu, core::Rig(cameras), options);
  std::vector<std::vector<float>> out;
  for (int v = 0; v < img.views; ++v) out.emplace_back(img.view(v), img.view(v) + img.view_pixels());
  return out;
}

std::vector<Mask2D> projected_lung_fields(const core::VolumeU8& labels, const std::vector<core::Camera>& cameras,
                                          double min_path_mm) {
  XL_CHECK(!labels.empty(), "projected lung fields: empty lung mask");
  XL_CHECK(std::isfinite(min_path_mm) && min_path_mm >= 0, "projected lung fields: min_path_mm ", min_path_mm,
           ", expected >= 0");
  const auto paths = projected_lung_paths(labels, cameras);
  std::vector<Mask2D> out;
  for (std::size_t v = 0; v < paths.size(); ++v) {
    Mask2D m{cameras[v].width(), cameras[v].height(), std::vector<std::uint8_t>(paths[v].size())};
    for (std::size_t p = 0; p < m.pixels.size(); ++p) m.pixels[p] = paths[v][p] > min_path_mm;
    out.push_back(std::move(m));
  }
  return out;
}

double mask_dice(const Mask2D& a, const Mask2D& b) {
  XL_CHECK(a.width == b.width && a.height == b.height && a.pixels.size() == b.pixels.size(), "mask dice: sizes ",
           a.width, " x ", a.height, " and ", b.width, " x ", b.height, " differ");
  std::size_t both = 0, na = 0, nb = 0;
  for (std::size_t p = 0; p < a.pixels.size(); ++p) {
    na += a.pixels[p] != 0, nb += b.pixels[p] != 0;
    both += a.pixels[p] && b.pixels[p];
  }
  return na + nb == 0 ? 1.0 : 2.0 * double(both) / double(na + nb);
}

}  // namespace xraylift::drr
