#pragma once
// The bitmask NMS of the CUDA kernel (src/nms_kernel.cu, torchvision's scheme), as host/device functions so that
// the CPU tests run the same code (tests/detect2d/test_ops.cpp): boxes sorted by decreasing score are cut into
// blocks of 64; word (i, c) of the mask has bit b set when box i suppresses box 64 c + b (IoU > threshold, only
// for later boxes); the greedy pass keeps box i unless a kept box before it set its bit.
// Layout: mask[i * col_blocks + c]; words of column blocks before i's own block are never written nor read.
#include "xraylift/core/hd_camera.hpp"

namespace xraylift::detect2d {

constexpr int kNmsBlock = 64;  // bits in a mask word

XL_HD int nms_col_blocks(int n) { return (n + kNmsBlock - 1) / kNmsBlock; }

// IoU(a, b) > threshold, computed in Acc (float for half/bf16 boxes); boxes (x0, y0, x1, y1). Same arithmetic as
// the CPU reference nms (ops_cpu.cpp): intersection over union in Acc, compared in double.
template <typename Acc, typename T>
XL_HD bool nms_iou_above(const T* a, const T* b, double threshold) {
  const Acc ax0 = static_cast<Acc>(a[0]), ay0 = static_cast<Acc>(a[1]), ax1 = static_cast<Acc>(a[2]),
            ay1 = static_cast<Acc>(a[3]);
  const Acc bx0 = static_cast<Acc>(b[0]), by0 = static_cast<Acc>(b[1]), bx1 = static_cast<Acc>(b[2]),
            by1 = static_cast<Acc>(b[3]);
  const Acc iw = (ax1 < bx1 ? ax1 : bx1) - (ax0 > bx0 ? ax0 : bx0);
  const Acc ih = (ay1 < by1 ? ay1 : by1) - (ay0 > by0 ? ay0 : by0);
  const Acc w = iw > Acc(0) ? iw : Acc(0), h = ih > Acc(0) ? ih : Acc(0);
  const Acc inter = w * h;
  const Acc uni = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
  return uni > Acc(0) && static_cast<double>(inter / uni) > threshold;
}

// Mask word of box `cur` against the col_size boxes of one column block (4 values each), from bit `start` on
// (start = cur's position + 1 in its own block, else 0).
template <typename Acc, typename T>
XL_HD unsigned long long nms_mask_word(const T* cur, const T* column_boxes, int col_size, int start, double threshold) {
  unsigned long long bits = 0;
  for (int i = start; i < col_size; ++i)
    if (nms_iou_above<Acc>(cur, column_boxes + 4 * i, threshold)) bits |= 1ULL << i;
  return bits;
}

// The greedy pass over the mask, run by `threads` cooperating threads (thread `tid`; one block on the GPU, one
// thread on the CPU) that share removed[col_blocks] (zeroed here) and call barrier() together. Sets keep[i] for the
// kept boxes (keep is zeroed by the caller). Every branch around a barrier depends only on shared state, so all
// threads reach every barrier.
#ifdef __CUDACC__
#pragma nv_exec_check_disable
#endif
template <typename Barrier>
XL_HD void nms_greedy_pass(int n, const unsigned long long* mask, unsigned long long* removed, bool* keep, int tid,
                           int threads, Barrier&& barrier) {
  const int col_blocks = nms_col_blocks(n);
  for (int j = tid; j < col_blocks; j += threads) removed[j] = 0;
  barrier();
  for (int block = 0; block < col_blocks; ++block) {
    unsigned long long removed_word = removed[block];
    barrier();
    for (int bit = 0; bit < kNmsBlock; ++bit) {
      const int i = block * kNmsBlock + bit;
      if (i >= n) break;
      if (removed_word & (1ULL << bit)) continue;
      if (tid == 0) keep[i] = true;
      const unsigned long long* row = mask + static_cast<long long>(i) * col_blocks;
      for (int j = block + tid; j < col_blocks; j += threads) removed[j] |= row[j];
      barrier();
      removed_word = removed[block];
      barrier();
    }
  }
}

}  // namespace xraylift::detect2d
