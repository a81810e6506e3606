#pragma once
// The RoIAlign bilinear rule, written once for the CPU kernel (src/ops_cpu.cpp) and its CUDA twin
// (src/roi_align_kernel.cu), as torchvision's roi_align: a sample more than one cell outside the map reads
// nothing; otherwise it is clamped to the border cells and spread over its four neighbours with bilinear weights.
// Plain structs and XL_HD functions (core/hd_camera.hpp), no torch: testable on the CPU without a GPU.
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

}  // namespace xraylift::detect2d
