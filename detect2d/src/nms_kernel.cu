// CUDA NMS (torchvision's bitmask scheme): one block compares 64 boxes against 64 others and writes a 64-bit mask
// of suppressions; the greedy pass over the masks runs on the device too (one block, the "removed" words in
// shared memory), so the n x n/64 mask never crosses to the host. Boxes arrive sorted by decreasing score.
// The one host synchronisation left is the size of the result (nonzero of the keep flags).
// Unverified on hardware in this repository's CI (no GPU); see docs/detect2d.md.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <algorithm>

#include "xraylift/detect2d/ops.hpp"

namespace xraylift::detect2d::cuda {
namespace {

constexpr int kThreadsPerBlock = 64;  // bits in the mask word

template <typename T>
__device__ bool iou_above(const T* a, const T* b, double threshold) {
  using acc_t = at::opmath_type<T>;
  const acc_t w = max(acc_t(0), min(static_cast<acc_t>(a[2]), static_cast<acc_t>(b[2])) -
                                    max(static_cast<acc_t>(a[0]), static_cast<acc_t>(b[0])));
  const acc_t h = max(acc_t(0), min(static_cast<acc_t>(a[3]), static_cast<acc_t>(b[3])) -
                                    max(static_cast<acc_t>(a[1]), static_cast<acc_t>(b[1])));
  const acc_t inter = w * h;
  const acc_t area_a = (static_cast<acc_t>(a[2]) - static_cast<acc_t>(a[0])) *
                       (static_cast<acc_t>(a[3]) - static_cast<acc_t>(a[1]));
  const acc_t area_b = (static_cast<acc_t>(b[2]) - static_cast<acc_t>(b[0])) *
                       (static_cast<acc_t>(b[3]) - static_cast<acc_t>(b[1]));
  const acc_t uni = area_a + area_b - inter;
  return uni > 0 && static_cast<double>(inter / uni) > threshold;
}

template <typename T>
__global__ void nms_mask_kernel(int n, double threshold, const T* boxes, unsigned long long* mask) {
  const int row_start = blockIdx.y, col_start = blockIdx.x;
  if (row_start > col_start) return;
  const int row_size = min(n - row_start * kThreadsPerBlock, kThreadsPerBlock);
  const int col_size = min(n - col_start * kThreadsPerBlock, kThreadsPerBlock);
  __shared__ T block_boxes[kThreadsPerBlock * 4];
  if (threadIdx.x < col_size) {
    for (int k = 0; k < 4; ++k)
      block_boxes[threadIdx.x * 4 + k] = boxes[(kThreadsPerBlock * col_start + threadIdx.x) * 4 + k];
  }
  __syncthreads();
  if (threadIdx.x < row_size) {
    const int cur = kThreadsPerBlock * row_start + threadIdx.x;
    const T* cur_box = boxes + cur * 4;
    unsigned long long bits = 0;
    const int start = row_start == col_start ? threadIdx.x + 1 : 0;
    for (int i = start; i < col_size; ++i)
      if (iou_above<T>(cur_box, block_boxes + i * 4, threshold)) bits |= 1ULL << i;
    const int col_blocks = (n + kThreadsPerBlock - 1) / kThreadsPerBlock;
    mask[cur * col_blocks + col_start] = bits;
  }
}

// The greedy pass: box i (in score order) is kept unless a kept box before it suppressed it. The threads of the one
// block share the OR-ing of a kept box's mask row into `removed`; the branch on removed_word is uniform (it is read
// from shared memory after a barrier), so every thread reaches every __syncthreads.
__global__ void nms_keep_kernel(int n, const unsigned long long* __restrict__ mask, bool* __restrict__ keep) {
  extern __shared__ unsigned long long removed[];
  const int col_blocks = (n + kThreadsPerBlock - 1) / kThreadsPerBlock;
  for (int j = threadIdx.x; j < col_blocks; j += blockDim.x) removed[j] = 0;
  __syncthreads();
  for (int block = 0; block < col_blocks; ++block) {
    unsigned long long removed_word = removed[block];
    __syncthreads();
    for (int bit = 0; bit < kThreadsPerBlock; ++bit) {
      const int i = block * kThreadsPerBlock + bit;
      if (i >= n) break;
      if (removed_word & (1ULL << bit)) continue;
      if (threadIdx.x == 0) keep[i] = true;
      const unsigned long long* row = mask + static_cast<int64_t>(i) * col_blocks;
      for (int j = block + threadIdx.x; j < col_blocks; j += blockDim.x) removed[j] |= row[j];
      __syncthreads();
      removed_word = removed[block];
      __syncthreads();
    }
  }
}

}  // namespace

torch::Tensor nms(const torch::Tensor& sorted_boxes, double iou_threshold) {
  TORCH_CHECK(sorted_boxes.is_cuda(), "nms (CUDA): boxes must be a CUDA tensor");
  c10::cuda::CUDAGuard guard(sorted_boxes.device());
  const auto boxes = sorted_boxes.contiguous();
  const int n = static_cast<int>(boxes.size(0));
  if (n == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  const int col_blocks = (n + kThreadsPerBlock - 1) / kThreadsPerBlock;
  auto mask = at::empty({static_cast<int64_t>(n) * col_blocks}, boxes.options().dtype(at::kLong));
  const dim3 blocks(col_blocks, col_blocks);
  const dim3 threads(kThreadsPerBlock);
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, boxes.scalar_type(), "nms_cuda", [&] {
    nms_mask_kernel<scalar_t><<<blocks, threads, 0, stream>>>(
        n, iou_threshold, boxes.data_ptr<scalar_t>(), reinterpret_cast<unsigned long long*>(mask.data_ptr<int64_t>()));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  auto keep = at::zeros({n}, boxes.options().dtype(at::kBool));
  const int threads_keep = std::min(col_blocks, 256);
  nms_keep_kernel<<<1, threads_keep, col_blocks * sizeof(unsigned long long), stream>>>(
      n, reinterpret_cast<const unsigned long long*>(mask.data_ptr<int64_t>()), keep.data_ptr<bool>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return at::nonzero(keep).squeeze(1);  // positions in score order, ascending
}

}  // namespace xraylift::detect2d::cuda
