// CUDA kernels of xraylift::roi_align and xraylift::_roi_align_backward: the GPU twins of cpu/roi_align_kernel.cpp
// (same sampling rules).
// One thread per output element; backward scatters with atomicAdd (half/bf16 through at's fastAtomicAdd).
// The bilinear rule is detect2d/bilinear.hpp, shared with the CPU kernel. Nothing here synchronises the host:
// RoIs with an out-of-range batch index are skipped (zero output, no gradient) instead of checked on the host.
// Unverified on hardware in this repository's CI (no GPU); see docs/detect2d.md.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>
#include <ATen/native/cuda/KernelUtils.cuh>

#include "xraylift/detect2d/bilinear.hpp"

namespace xraylift::detect2d {
namespace {

constexpr int kThreads = 256;

// Output element `index` of [K, C, pooled_h, pooled_w] (bins fastest): its bin, channel, image and the RoI's
// sampling grid. `valid` is false for a RoI whose batch index is out of range (skipped: no host check on CUDA).
template <typename scalar_t, typename acc_t>
struct RoiCell {
  __device__ RoiCell(int64_t index, const scalar_t* rois, int64_t batch, int channels, int pooled_h, int pooled_w,
                     acc_t scale, int sampling_ratio, bool aligned)
      : pw(static_cast<int>(index % pooled_w)),
        ph(static_cast<int>((index / pooled_w) % pooled_h)),
        c(static_cast<int>((index / pooled_w / pooled_h) % channels)) {
    const scalar_t* roi = rois + index / pooled_w / pooled_h / channels * 5;
    const acc_t b_value = static_cast<acc_t>(roi[0]);
    valid = b_value >= acc_t(0) && b_value < static_cast<acc_t>(batch);
    b = valid ? static_cast<int64_t>(b_value) : 0;
    grid = roi_grid(static_cast<acc_t>(roi[1]), static_cast<acc_t>(roi[2]), static_cast<acc_t>(roi[3]),
                    static_cast<acc_t>(roi[4]), scale, aligned, pooled_h, pooled_w, sampling_ratio);
  }
  int pw, ph, c;
  bool valid;
  int64_t b;
  RoiGrid<acc_t> grid;
};

// acc_t is float for half/bf16 inputs (accumulate in float), else the input type.
template <typename scalar_t, typename acc_t>
__global__ void roi_align_forward_kernel(int64_t total, const scalar_t* input, const scalar_t* rois, int64_t batch,
                                         int channels, int height, int width, int pooled_h, int pooled_w, acc_t scale,
                                         int sampling_ratio, bool aligned, scalar_t* output) {
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const RoiCell<scalar_t, acc_t> cell(index, rois, batch, channels, pooled_h, pooled_w, scale, sampling_ratio,
                                        aligned);
    if (!cell.valid) {
      output[index] = static_cast<scalar_t>(0);
      continue;
    }
    const int pw = cell.pw, ph = cell.ph, c = cell.c;
    const int64_t b = cell.b;
    const RoiGrid<acc_t>& grid = cell.grid;
    const int grid_h = grid.grid_h, grid_w = grid.grid_w;
    const scalar_t* plane = input + (b * channels + c) * height * width;
    acc_t sum = 0;
    for_each_bin_tap(grid, ph, pw, height, width, [&](const BilinearTaps<acc_t, int>& t) {
      sum += t.w1 * static_cast<acc_t>(plane[t.y_low * width + t.x_low]) +
             t.w2 * static_cast<acc_t>(plane[t.y_low * width + t.x_high]) +
             t.w3 * static_cast<acc_t>(plane[t.y_high * width + t.x_low]) +
             t.w4 * static_cast<acc_t>(plane[t.y_high * width + t.x_high]);
    });
    output[index] = static_cast<scalar_t>(sum / static_cast<acc_t>(grid_h * grid_w));
  }
}

template <typename scalar_t, typename acc_t>
__global__ void roi_align_backward_kernel(int64_t total, const scalar_t* grad_output, const scalar_t* rois,
                                          int64_t batch, int channels, int height, int width, int pooled_h,
                                          int pooled_w, acc_t scale, int sampling_ratio, bool aligned,
                                          scalar_t* grad_input, int64_t grad_input_numel) {
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const RoiCell<scalar_t, acc_t> cell(index, rois, batch, channels, pooled_h, pooled_w, scale, sampling_ratio,
                                        aligned);
    if (!cell.valid) continue;
    const int pw = cell.pw, ph = cell.ph, c = cell.c;
    const int64_t b = cell.b;
    const RoiGrid<acc_t>& grid = cell.grid;
    const int grid_h = grid.grid_h, grid_w = grid.grid_w;
    const int64_t plane_offset = (b * channels + c) * height * width;
    const acc_t g = static_cast<acc_t>(grad_output[index]) / static_cast<acc_t>(grid_h * grid_w);
    for_each_bin_tap(grid, ph, pw, height, width, [&](const BilinearTaps<acc_t, int>& t) {
      at::native::fastAtomicAdd(grad_input, plane_offset + t.y_low * width + t.x_low, grad_input_numel,
                                static_cast<scalar_t>(g * t.w1), true);
      at::native::fastAtomicAdd(grad_input, plane_offset + t.y_low * width + t.x_high, grad_input_numel,
                                static_cast<scalar_t>(g * t.w2), true);
      at::native::fastAtomicAdd(grad_input, plane_offset + t.y_high * width + t.x_low, grad_input_numel,
                                static_cast<scalar_t>(g * t.w3), true);
      at::native::fastAtomicAdd(grad_input, plane_offset + t.y_high * width + t.x_high, grad_input_numel,
                                static_cast<scalar_t>(g * t.w4), true);
    });
  }
}

int blocks_for(int64_t total) {
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  return static_cast<int>(std::min<int64_t>(std::max<int64_t>(blocks, 1), 65535LL * 8));
}

at::Tensor roi_align_forward_cuda(const at::Tensor& input_, const at::Tensor& rois_, double spatial_scale,
                                  int64_t pooled_height, int64_t pooled_width, int64_t sampling_ratio, bool aligned) {
  TORCH_CHECK(input_.is_cuda() && rois_.is_cuda(), "roi_align (CUDA): input and rois must be CUDA tensors");
  c10::cuda::CUDAGuard guard(input_.device());
  const auto input = input_.contiguous();
  const auto rois = rois_.contiguous();
  const int64_t K = rois.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  auto output = at::zeros({K, C, pooled_height, pooled_width}, input.options());
  const int64_t total = output.numel();
  if (total == 0) return output;
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "roi_align_forward_cuda", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    roi_align_forward_kernel<scalar_t, acc_t><<<blocks_for(total), kThreads, 0, stream>>>(
        total, input.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), input.size(0), static_cast<int>(C),
        static_cast<int>(H), static_cast<int>(W), static_cast<int>(pooled_height), static_cast<int>(pooled_width),
        static_cast<acc_t>(spatial_scale), static_cast<int>(sampling_ratio), aligned, output.data_ptr<scalar_t>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return output;
}

at::Tensor roi_align_backward_cuda(const at::Tensor& grad_, const at::Tensor& rois_, double spatial_scale,
                                   int64_t pooled_height, int64_t pooled_width, int64_t batch, int64_t channels,
                                   int64_t height, int64_t width, int64_t sampling_ratio, bool aligned) {
  TORCH_CHECK(grad_.is_cuda() && rois_.is_cuda(), "roi_align_backward (CUDA): grad and rois must be CUDA tensors");
  c10::cuda::CUDAGuard guard(grad_.device());
  const auto grad = grad_.contiguous();
  const auto rois = rois_.contiguous();
  auto grad_input = at::zeros({batch, channels, height, width}, grad.options());
  const int64_t total = grad.numel();
  if (total == 0 || grad_input.numel() == 0) return grad_input;
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "roi_align_backward_cuda", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    roi_align_backward_kernel<scalar_t, acc_t><<<blocks_for(total), kThreads, 0, stream>>>(
        total, grad.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), batch, static_cast<int>(channels),
        static_cast<int>(height), static_cast<int>(width), static_cast<int>(pooled_height),
        static_cast<int>(pooled_width), static_cast<acc_t>(spatial_scale), static_cast<int>(sampling_ratio), aligned,
        grad_input.data_ptr<scalar_t>(), grad_input.numel());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return grad_input;
}

}  // namespace

TORCH_LIBRARY_IMPL(xraylift, CUDA, m) {
  m.impl("roi_align", TORCH_FN(roi_align_forward_cuda));
  m.impl("_roi_align_backward", TORCH_FN(roi_align_backward_cuda));
}

}  // namespace xraylift::detect2d
