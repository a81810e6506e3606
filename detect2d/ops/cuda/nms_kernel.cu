// CUDA NMS (torchvision's bitmask scheme, the per-word and greedy-pass code in detect2d/nms_mask.hpp, shared with
// the CPU tests): one block compares 64 boxes against 64 others and writes a 64-bit mask of suppressions; the
// greedy pass over the masks runs on the device too (one block, the "removed" words in shared memory), so the
// n x n/64 mask never crosses to the host. The kernel sorts the boxes by decreasing score (stable) on the device.
// The one host synchronisation left is the size of the result (nonzero of the keep flags).
// Unverified on hardware in this repository's CI (no GPU); see docs/detect2d.md.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/nonzero.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>

#include "xraylift/detect2d/nms_mask.hpp"

namespace xraylift::detect2d {
namespace {

constexpr int kThreadsPerBlock = kNmsBlock;  // bits in the mask word

template <typename T>
__global__ void nms_mask_kernel(int n, double threshold, const T* boxes, unsigned long long* mask) {
  using acc_t = at::opmath_type<T>;
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
    const int start = row_start == col_start ? threadIdx.x + 1 : 0;
    mask[static_cast<int64_t>(cur) * nms_col_blocks(n) + col_start] =
        nms_mask_word<acc_t>(boxes + cur * 4, block_boxes, col_size, start, threshold);
  }
}

// The greedy pass (nms_mask.hpp) by one block, the "removed" words in shared memory.
__global__ void nms_keep_kernel(int n, const unsigned long long* __restrict__ mask, bool* __restrict__ keep) {
  extern __shared__ unsigned long long removed[];
  nms_greedy_pass(n, mask, removed, keep, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x),
                  [] { __syncthreads(); });
}

at::Tensor nms_cuda(const at::Tensor& dets, const at::Tensor& scores, double iou_threshold) {
  TORCH_CHECK(dets.is_cuda() && scores.is_cuda(), "nms (CUDA): boxes and scores must be CUDA tensors");
  c10::cuda::CUDAGuard guard(dets.device());
  if (dets.size(0) == 0) return at::empty({0}, dets.options().dtype(at::kLong));
  const auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  const auto boxes = dets.index_select(0, order).contiguous();
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
  return order.index_select(0, at::nonzero(keep).squeeze(1));  // kept positions in score order
}

}  // namespace

TORCH_LIBRARY_IMPL(xraylift, CUDA, m) { m.impl("nms", TORCH_FN(nms_cuda)); }

}  // namespace xraylift::detect2d
