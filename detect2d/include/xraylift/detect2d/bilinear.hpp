#pragma once
// The RoIAlign sampling rules, written once for the CPU kernel (ops/cpu/roi_align_kernel.cpp) and its CUDA twin
// (ops/cuda/roi_align_kernel.cu): the RoI's sampling grid, and the bilinear rule, as torchvision's roi_align: a sample
// more than one cell outside the map reads nothing; otherwise it is clamped to the border cells and spread over its
// four neighbours with bilinear weights. Plain structs and XL_HD functions (core/hd_camera.hpp), no torch: testable on
// the CPU without a GPU.
#include <cmath>

#include "xraylift/core/hd_camera.hpp"

namespace xraylift::detect2d {

template <typename T, typename Index>
struct BilinearTaps {
  Index y_low = 0, x_low = 0, y_high = 0, x_high = 0;
  T w1 = 0, w2 = 0, w3 = 0, w4 = 0;  // weights of (y_low, x_low), (y_low, x_high), (y_high, x_low), (y_high, x_high)
};

// Sample (y, x) in feature-cell coordinates of a height x width map. Returns false (and leaves t alone) when it
// lies more than one cell outside the map.
template <typename T, typename Index>
XL_HD bool bilinear_taps(Index height, Index width, T y, T x, BilinearTaps<T, Index>& t) {
  if (y < T(-1) || y > T(height) || x < T(-1) || x > T(width)) return false;
  if (y <= T(0)) y = T(0);
  if (x <= T(0)) x = T(0);
  t.y_low = static_cast<Index>(y);
  t.x_low = static_cast<Index>(x);
  if (t.y_low >= height - 1) {
    t.y_high = t.y_low = height - 1;
    y = static_cast<T>(t.y_low);
  } else {
    t.y_high = t.y_low + 1;
  }
  if (t.x_low >= width - 1) {
    t.x_high = t.x_low = width - 1;
    x = static_cast<T>(t.x_low);
  } else {
    t.x_high = t.x_low + 1;
  }
  const T ly = y - static_cast<T>(t.y_low), lx = x - static_cast<T>(t.x_low);
  const T hy = T(1) - ly, hx = T(1) - lx;
  t.w1 = hy * hx;
  t.w2 = hy * lx;
  t.w3 = ly * hx;
  t.w4 = ly * lx;
  return true;
}

// The sampling grid of one RoI (x0, y0, x1, y1 in image pixels) on a feature map of the given scale, as
// torchvision's roi_align: bin (ph, pw) holds grid_h x grid_w samples, sample (iy, ix) at
// (start_h + ph bin_h + (iy + 0.5) bin_h / grid_h, start_w + pw bin_w + (ix + 0.5) bin_w / grid_w).
// sampling_ratio <= 0: ceil(bin size) samples per side. aligned = false: the legacy rule (no half-pixel offset,
// RoIs at least 1 x 1 cell).
template <typename T>
struct RoiGrid {
  T start_h = 0, start_w = 0, bin_h = 0, bin_w = 0;
  int grid_h = 1, grid_w = 1;

  XL_HD T sample_y(int ph, int iy) const { return start_h + ph * bin_h + (iy + T(0.5)) * bin_h / grid_h; }
  XL_HD T sample_x(int pw, int ix) const { return start_w + pw * bin_w + (ix + T(0.5)) * bin_w / grid_w; }
};

template <typename T>
XL_HD RoiGrid<T> roi_grid(T x0, T y0, T x1, T y1, T scale, bool aligned, int pooled_h, int pooled_w,
                          int sampling_ratio) {
  RoiGrid<T> g;
  const T offset = aligned ? T(0.5) : T(0);
  g.start_w = x0 * scale - offset;
  g.start_h = y0 * scale - offset;
  T roi_w = x1 * scale - offset - g.start_w;
  T roi_h = y1 * scale - offset - g.start_h;
  if (!aligned) {
    roi_w = roi_w > T(1) ? roi_w : T(1);
    roi_h = roi_h > T(1) ? roi_h : T(1);
  }
  g.bin_h = roi_h / static_cast<T>(pooled_h);
  g.bin_w = roi_w / static_cast<T>(pooled_w);
  g.grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int>(ceil(roi_h / static_cast<T>(pooled_h)));
  g.grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int>(ceil(roi_w / static_cast<T>(pooled_w)));
  if (g.grid_h < 1) g.grid_h = 1;
  if (g.grid_w < 1) g.grid_w = 1;
  return g;
}

// Calls f(taps) for every sample of bin (ph, pw) that reads the map (samples more than one cell outside read
// nothing and are skipped), in the sample order of torchvision's roi_align.
template <typename T, typename Index, typename F>
XL_HD void for_each_bin_tap(const RoiGrid<T>& g, int ph, int pw, Index height, Index width, F&& f) {
  for (int iy = 0; iy < g.grid_h; ++iy) {
    const T y = g.sample_y(ph, iy);
    for (int ix = 0; ix < g.grid_w; ++ix) {
      BilinearTaps<T, Index> t;
      if (bilinear_taps(height, width, y, g.sample_x(pw, ix), t)) f(t);
    }
  }
}

}  // namespace xraylift::detect2d
