// CPU kernels of xraylift::roi_align and xraylift::_roi_align_backward (the twins of cuda/roi_align_kernel.cu).
// The bilinear sampling rule (torchvision's roi_align) is detect2d/bilinear.hpp, shared with the CUDA kernels.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"
#include "xraylift/detect2d/bilinear.hpp"

namespace xraylift::detect2d {
namespace {

// The op's arguments (xraylift/detect2d/ops.hpp RoIAlignOptions, without the torch headers).
struct RoiParams {
  std::int64_t pooled_height, pooled_width;
  double spatial_scale;
  std::int64_t sampling_ratio;
  bool aligned;
};

// One RoI: its image and its sampling grid (detect2d/bilinear.hpp, shared with the CUDA kernels).
template <typename T>
struct RoiGeometry {
  std::int64_t batch;
  RoiGrid<T> grid;
};

template <typename T>
RoiGeometry<T> roi_geometry(const T* roi, const RoiParams& o) {
  return {static_cast<std::int64_t>(roi[0]),
          roi_grid(roi[1], roi[2], roi[3], roi[4], static_cast<T>(o.spatial_scale), o.aligned,
                   static_cast<int>(o.pooled_height), static_cast<int>(o.pooled_width),
                   static_cast<int>(o.sampling_ratio))};
}

// The bilinear taps of every sample of one RoI, computed once and reused for all channels (torchvision's pre_calc).
template <typename T>
struct SampleTap {
  std::int64_t bin;  // ph * pooled_w + pw
  std::int64_t o1, o2, o3, o4;
  T w1, w2, w3, w4;
};

template <typename T>
void roi_taps(const RoiGeometry<T>& g, std::int64_t height, std::int64_t width, const RoiParams& o,
              std::vector<SampleTap<T>>& taps) {
  taps.clear();
  for (std::int64_t ph = 0; ph < o.pooled_height; ++ph)
    for (std::int64_t pw = 0; pw < o.pooled_width; ++pw)
      for_each_bin_tap(
          g.grid, static_cast<int>(ph), static_cast<int>(pw), height, width,
          [&](const BilinearTaps<T, std::int64_t>& s) {
            taps.push_back({ph * o.pooled_width + pw, s.y_low * width + s.x_low, s.y_low * width + s.x_high,
                            s.y_high * width + s.x_low, s.y_high * width + s.x_high, s.w1, s.w2, s.w3, s.w4});
          });
}

template <typename T>
void roi_align_forward_cpu_kernel(const T* input, const T* rois, std::int64_t num_rois, std::int64_t batch,
                                  std::int64_t channels, std::int64_t height, std::int64_t width, const RoiParams& o,
                                  T* output) {
  const std::int64_t bins = o.pooled_height * o.pooled_width;
  core::parallel_for_chunks(0, num_rois, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<SampleTap<T>> taps;
    for (std::int64_t n = begin; n < end; ++n) {
      const auto g = roi_geometry<T>(rois + n * 5, o);
      if (g.batch < 0 || g.batch >= batch) continue;  // validated by the caller; defensive
      roi_taps(g, height, width, o, taps);
      const T inv_count = T(1) / static_cast<T>(g.grid.grid_h * g.grid.grid_w);
      for (std::int64_t c = 0; c < channels; ++c) {
        const T* plane = input + (g.batch * channels + c) * height * width;
        T* out = output + (n * channels + c) * bins;
        for (const auto& t : taps)
          out[t.bin] += t.w1 * plane[t.o1] + t.w2 * plane[t.o2] + t.w3 * plane[t.o3] + t.w4 * plane[t.o4];
        for (std::int64_t k = 0; k < bins; ++k) out[k] *= inv_count;
      }
    }
  });
}

template <typename T>
void roi_align_backward_cpu_kernel(const T* grad_output, const T* rois, std::int64_t num_rois, std::int64_t batch,
                                   std::int64_t channels, std::int64_t height, std::int64_t width, const RoiParams& o,
                                   T* grad_input) {
  const std::int64_t bins = o.pooled_height * o.pooled_width;
  // RoIs may overlap, so parallelise over channels (disjoint output planes) rather than RoIs.
  core::parallel_for_chunks(0, channels, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<SampleTap<T>> taps;
    for (std::int64_t n = 0; n < num_rois; ++n) {
      const auto g = roi_geometry<T>(rois + n * 5, o);
      if (g.batch < 0 || g.batch >= batch) continue;
      roi_taps(g, height, width, o, taps);
      const T inv_count = T(1) / static_cast<T>(g.grid.grid_h * g.grid.grid_w);
      for (std::int64_t c = begin; c < end; ++c) {
        T* plane = grad_input + (g.batch * channels + c) * height * width;
        const T* gout = grad_output + (n * channels + c) * bins;
        for (const auto& t : taps) {
          const T gbin = gout[t.bin] * inv_count;
          plane[t.o1] += gbin * t.w1;
          plane[t.o2] += gbin * t.w2;
          plane[t.o3] += gbin * t.w3;
          plane[t.o4] += gbin * t.w4;
        }
      }
    }
  });
}

void check_cpu_dtype(const at::Tensor& t, const char* where) {
  XL_CHECK(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble, where,
           ": the CPU kernel takes float32/float64, got ", t.scalar_type(),
           " (half/bf16 features are pooled in float32 under autocast)");
}

at::Tensor roi_align_forward_cpu(const at::Tensor& input_, const at::Tensor& rois_, double spatial_scale,
                                 std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t sampling_ratio,
                                 bool aligned) {
  check_cpu_dtype(input_, "roi_align");
  const RoiParams o{pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
  const auto input = input_.contiguous();
  const auto rois = rois_.contiguous();
  const std::int64_t K = rois.size(0), N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  auto output = at::zeros({K, C, o.pooled_height, o.pooled_width}, input.options());
  if (K == 0 || output.numel() == 0) return output;
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "roi_align_forward_cpu", [&] {
    roi_align_forward_cpu_kernel<scalar_t>(input.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), K, N, C, H, W, o,
                                           output.data_ptr<scalar_t>());
  });
  return output;
}

at::Tensor roi_align_backward_cpu(const at::Tensor& grad_, const at::Tensor& rois_, double spatial_scale,
                                  std::int64_t pooled_height, std::int64_t pooled_width, std::int64_t N, std::int64_t C,
                                  std::int64_t H, std::int64_t W, std::int64_t sampling_ratio, bool aligned) {
  check_cpu_dtype(grad_, "roi_align_backward");
  const RoiParams o{pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
  const auto grad = grad_.contiguous();
  const auto rois = rois_.contiguous();
  auto grad_input = at::zeros({N, C, H, W}, grad.options());
  if (rois.size(0) == 0 || grad_input.numel() == 0) return grad_input;
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "roi_align_backward_cpu", [&] {
    roi_align_backward_cpu_kernel<scalar_t>(grad.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), rois.size(0), N, C, H,
                                            W, o, grad_input.data_ptr<scalar_t>());
  });
  return grad_input;
}

}  // namespace

TORCH_LIBRARY_IMPL(xraylift, CPU, m) {
  m.impl("roi_align", TORCH_FN(roi_align_forward_cpu));
  m.impl("_roi_align_backward", TORCH_FN(roi_align_backward_cpu));
}

}  // namespace xraylift::detect2d
