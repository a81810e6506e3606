// CPU kernels of RoIAlign and NMS, the device-dispatching entries and the RoIAlign autograd wrapper.
// The bilinear sampling rule (torchvision's roi_align) lives in detect2d/bilinear.hpp, shared with the CUDA twin
// (roi_align_kernel.cu).
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/bilinear.hpp"
#include "xraylift/detect2d/ops.hpp"

namespace xraylift::detect2d {
namespace {

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

void check_roi_options(const RoIAlignOptions& o) {
  XL_CHECK(o.pooled_height > 0 && o.pooled_width > 0, "roi_align: pooled size must be positive, got ", o.pooled_height,
           " x ", o.pooled_width);
  XL_CHECK(std::isfinite(o.spatial_scale) && o.spatial_scale > 0, "roi_align: spatial_scale must be > 0, got ",
           o.spatial_scale);
}

void check_rois(const torch::Tensor& rois, const torch::Tensor& reference, const char* where) {
  XL_CHECK(rois.defined() && rois.dim() == 2 && rois.size(1) == 5, where,
           ": rois must be [K, 5] (batch index, x0, y0, x1, y1), got ", rois.defined() ? shape_of(rois) : "undefined");
  XL_CHECK(rois.device() == reference.device(), where, ": rois on ", rois.device(), " but features on ",
           reference.device());
  XL_CHECK(rois.scalar_type() == reference.scalar_type(), where, ": rois dtype ", rois.scalar_type(),
           " differs from features dtype ", reference.scalar_type());
}

// Geometry of one RoI on the feature map.
template <typename T>
struct RoiGeometry {
  std::int64_t batch;
  T start_h, start_w, bin_h, bin_w;
  std::int64_t grid_h, grid_w;
};

template <typename T>
RoiGeometry<T> roi_geometry(const T* roi, const RoIAlignOptions& o) {
  RoiGeometry<T> g;
  g.batch = static_cast<std::int64_t>(roi[0]);
  const T offset = o.aligned ? T(0.5) : T(0);
  const T scale = static_cast<T>(o.spatial_scale);
  g.start_w = roi[1] * scale - offset;
  g.start_h = roi[2] * scale - offset;
  T roi_w = roi[3] * scale - offset - g.start_w;
  T roi_h = roi[4] * scale - offset - g.start_h;
  if (!o.aligned) {  // legacy behaviour: force malformed RoIs to be 1x1
    roi_w = std::max(roi_w, T(1));
    roi_h = std::max(roi_h, T(1));
  }
  g.bin_h = roi_h / static_cast<T>(o.pooled_height);
  g.bin_w = roi_w / static_cast<T>(o.pooled_width);
  g.grid_h = o.sampling_ratio > 0 ? o.sampling_ratio : static_cast<std::int64_t>(std::ceil(roi_h / o.pooled_height));
  g.grid_w = o.sampling_ratio > 0 ? o.sampling_ratio : static_cast<std::int64_t>(std::ceil(roi_w / o.pooled_width));
  g.grid_h = std::max<std::int64_t>(g.grid_h, 1);
  g.grid_w = std::max<std::int64_t>(g.grid_w, 1);
  return g;
}

// The bilinear taps of every sample of one RoI, computed once and reused for all channels (torchvision's pre_calc).
template <typename T>
struct SampleTap {
  std::int64_t bin;  // ph * pooled_w + pw
  std::int64_t o1, o2, o3, o4;
  T w1, w2, w3, w4;
};

template <typename T>
void roi_taps(const RoiGeometry<T>& g, std::int64_t height, std::int64_t width, const RoIAlignOptions& o,
              std::vector<SampleTap<T>>& taps) {
  taps.clear();
  for (std::int64_t ph = 0; ph < o.pooled_height; ++ph)
    for (std::int64_t pw = 0; pw < o.pooled_width; ++pw)
      for (std::int64_t iy = 0; iy < g.grid_h; ++iy) {
        const T y = g.start_h + ph * g.bin_h + (iy + T(0.5)) * g.bin_h / g.grid_h;
        for (std::int64_t ix = 0; ix < g.grid_w; ++ix) {
          const T x = g.start_w + pw * g.bin_w + (ix + T(0.5)) * g.bin_w / g.grid_w;
          BilinearTaps<T, std::int64_t> s;
          if (!bilinear_taps(height, width, y, x, s)) continue;
          taps.push_back({ph * o.pooled_width + pw, s.y_low * width + s.x_low, s.y_low * width + s.x_high,
                          s.y_high * width + s.x_low, s.y_high * width + s.x_high, s.w1, s.w2, s.w3, s.w4});
        }
      }
}

template <typename T>
void roi_align_forward_cpu_kernel(const T* input, const T* rois, std::int64_t num_rois, std::int64_t batch,
                                  std::int64_t channels, std::int64_t height, std::int64_t width,
                                  const RoIAlignOptions& o, T* output) {
  const std::int64_t bins = o.pooled_height * o.pooled_width;
  at::parallel_for(0, num_rois, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<SampleTap<T>> taps;
    for (std::int64_t n = begin; n < end; ++n) {
      const auto g = roi_geometry<T>(rois + n * 5, o);
      if (g.batch < 0 || g.batch >= batch) continue;  // validated by the caller; defensive
      roi_taps(g, height, width, o, taps);
      const T inv_count = T(1) / static_cast<T>(g.grid_h * g.grid_w);
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
                                   std::int64_t channels, std::int64_t height, std::int64_t width,
                                   const RoIAlignOptions& o, T* grad_input) {
  const std::int64_t bins = o.pooled_height * o.pooled_width;
  // RoIs may overlap, so parallelise over channels (disjoint output planes) rather than RoIs.
  at::parallel_for(0, channels, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<SampleTap<T>> taps;
    for (std::int64_t n = 0; n < num_rois; ++n) {
      const auto g = roi_geometry<T>(rois + n * 5, o);
      if (g.batch < 0 || g.batch >= batch) continue;
      roi_taps(g, height, width, o, taps);
      const T inv_count = T(1) / static_cast<T>(g.grid_h * g.grid_w);
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

// CPU tensors only: on CUDA reading the min/max back would synchronise the host every call, so the CUDA kernels
// instead skip RoIs whose batch index is out of range (zero output, no gradient), docs/detect2d.md.
void check_batch_indices(const torch::Tensor& rois, std::int64_t batch, const char* where) {
  if (rois.size(0) == 0 || rois.is_cuda()) return;
  const auto idx = rois.select(1, 0);
  const double lo = idx.min().item<double>(), hi = idx.max().item<double>();
  XL_CHECK(lo >= 0 && hi < batch, where, ": roi batch indices must lie in [0, ", batch, "), got [", lo, ", ", hi, "]");
}

torch::Tensor roi_align_forward_cpu(const torch::Tensor& input_, const torch::Tensor& rois_, const RoIAlignOptions& o) {
  const auto input = input_.contiguous();
  const auto rois = rois_.contiguous();
  const std::int64_t K = rois.size(0), N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  auto output = torch::zeros({K, C, o.pooled_height, o.pooled_width}, input.options());
  if (K == 0 || output.numel() == 0) return output;
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "roi_align_forward_cpu", [&] {
    roi_align_forward_cpu_kernel<scalar_t>(input.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), K, N, C, H, W, o,
                                           output.data_ptr<scalar_t>());
  });
  return output;
}

torch::Tensor roi_align_backward_cpu(const torch::Tensor& grad_, const torch::Tensor& rois_, const RoIAlignOptions& o,
                                     std::int64_t N, std::int64_t C, std::int64_t H, std::int64_t W) {
  const auto grad = grad_.contiguous();
  const auto rois = rois_.contiguous();
  auto grad_input = torch::zeros({N, C, H, W}, grad.options());
  if (rois.size(0) == 0 || grad_input.numel() == 0) return grad_input;
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "roi_align_backward_cpu", [&] {
    roi_align_backward_cpu_kernel<scalar_t>(grad.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), rois.size(0), N, C, H,
                                            W, o, grad_input.data_ptr<scalar_t>());
  });
  return grad_input;
}

// Greedy NMS over boxes already sorted by decreasing score; returns kept positions in that order.
template <typename T>
std::vector<std::int64_t> nms_sorted_cpu(const T* b, std::int64_t n, double threshold) {
  std::vector<T> areas(n);
  for (std::int64_t i = 0; i < n; ++i) areas[i] = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
  std::vector<char> suppressed(n, 0);
  std::vector<std::int64_t> keep;
  for (std::int64_t i = 0; i < n; ++i) {
    if (suppressed[i]) continue;
    keep.push_back(i);
    for (std::int64_t j = i + 1; j < n; ++j) {
      if (suppressed[j]) continue;
      const T w = std::max(T(0), std::min(b[4 * i + 2], b[4 * j + 2]) - std::max(b[4 * i], b[4 * j]));
      const T h = std::max(T(0), std::min(b[4 * i + 3], b[4 * j + 3]) - std::max(b[4 * i + 1], b[4 * j + 1]));
      const T inter = w * h;
      const T uni = areas[i] + areas[j] - inter;
      const double iou = uni > 0 ? static_cast<double>(inter / uni) : 0.0;
      if (iou > threshold) suppressed[j] = 1;
    }
  }
  return keep;
}

class RoIAlignFunction : public torch::autograd::Function<RoIAlignFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& rois, double spatial_scale, std::int64_t pooled_h,
                               std::int64_t pooled_w, std::int64_t sampling_ratio, bool aligned) {
    const RoIAlignOptions o{pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned};
    ctx->saved_data["spatial_scale"] = spatial_scale;
    ctx->saved_data["pooled_h"] = pooled_h;
    ctx->saved_data["pooled_w"] = pooled_w;
    ctx->saved_data["sampling_ratio"] = sampling_ratio;
    ctx->saved_data["aligned"] = aligned;
    ctx->saved_data["input_shape"] = input.sizes();
    ctx->save_for_backward({rois});
    torch::NoGradGuard no_grad;
    return roi_align_forward(input, rois, o);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto rois = ctx->get_saved_variables()[0];
    const auto shape = ctx->saved_data["input_shape"].toIntVector();
    const RoIAlignOptions o{ctx->saved_data["pooled_h"].toInt(), ctx->saved_data["pooled_w"].toInt(),
                            ctx->saved_data["spatial_scale"].toDouble(), ctx->saved_data["sampling_ratio"].toInt(),
                            ctx->saved_data["aligned"].toBool()};
    auto grad_input = roi_align_backward(grad_outputs[0], rois, o, shape[0], shape[1], shape[2], shape[3]);
    return {grad_input,      torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

#ifndef XRAYLIFT_WITH_CUDA
[[noreturn]] void no_cuda(const char* what) {
  throw core::InputError(core::cat(what, ": tensor is on CUDA but this build has no CUDA kernels (XRAYLIFT_CUDA=OFF)"));
}
#endif

}  // namespace

torch::Tensor roi_align_forward(const torch::Tensor& input, const torch::Tensor& rois, const RoIAlignOptions& o) {
  XL_CHECK(input.defined() && input.dim() == 4, "roi_align: input must be [N, C, H, W], got ",
           input.defined() ? shape_of(input) : "undefined");
  XL_CHECK(input.is_floating_point(), "roi_align: input must be floating point, got ", input.scalar_type());
  check_rois(rois, input, "roi_align");
  check_roi_options(o);
  check_batch_indices(rois, input.size(0), "roi_align");
  if (input.is_cuda()) {
#ifdef XRAYLIFT_WITH_CUDA
    return cuda::roi_align_forward(input, rois, o);
#else
    no_cuda("roi_align");
#endif
  }
  XL_CHECK(input.device().is_cpu(), "roi_align: unsupported device ", input.device());
  XL_CHECK(input.scalar_type() == torch::kFloat || input.scalar_type() == torch::kDouble,
           "roi_align: CPU supports float32/float64, got ", input.scalar_type());
  return roi_align_forward_cpu(input, rois, o);
}

torch::Tensor roi_align_backward(const torch::Tensor& grad_output, const torch::Tensor& rois, const RoIAlignOptions& o,
                                 std::int64_t batch, std::int64_t channels, std::int64_t height, std::int64_t width) {
  XL_CHECK(grad_output.defined() && grad_output.dim() == 4, "roi_align_backward: grad must be [K, C, ph, pw], got ",
           grad_output.defined() ? shape_of(grad_output) : "undefined");
  check_rois(rois, grad_output, "roi_align_backward");
  check_roi_options(o);
  XL_CHECK(grad_output.size(0) == rois.size(0) && grad_output.size(1) == channels &&
               grad_output.size(2) == o.pooled_height && grad_output.size(3) == o.pooled_width,
           "roi_align_backward: grad shape ", shape_of(grad_output), " does not match ", rois.size(0), " rois x ",
           channels, " channels x ", o.pooled_height, " x ", o.pooled_width);
  XL_CHECK(batch >= 0 && channels >= 0 && height > 0 && width > 0, "roi_align_backward: bad input shape [", batch, ", ",
           channels, ", ", height, ", ", width, "]");
  check_batch_indices(rois, batch, "roi_align_backward");
  if (grad_output.is_cuda()) {
#ifdef XRAYLIFT_WITH_CUDA
    return cuda::roi_align_backward(grad_output, rois, o, batch, channels, height, width);
#else
    no_cuda("roi_align_backward");
#endif
  }
  XL_CHECK(grad_output.scalar_type() == torch::kFloat || grad_output.scalar_type() == torch::kDouble,
           "roi_align_backward: CPU supports float32/float64, got ", grad_output.scalar_type());
  return roi_align_backward_cpu(grad_output, rois, o, batch, channels, height, width);
}

torch::Tensor roi_align(const torch::Tensor& input, const torch::Tensor& rois, const RoIAlignOptions& o) {
  XL_CHECK(input.defined() && input.dim() == 4, "roi_align: input must be [N, C, H, W], got ",
           input.defined() ? shape_of(input) : "undefined");
  // Like torchvision's autocast policy: half/bf16 features are pooled in float32, because box coordinates of a
  // 1024-pixel view lose whole pixels in bf16. (The raw kernels still accept half/bf16 on CUDA.)
  const bool reduced = input.scalar_type() == torch::kHalf || input.scalar_type() == torch::kBFloat16;
  const auto x = reduced ? input.to(torch::kFloat) : input;
  const auto r = rois.defined() ? rois.to(x.scalar_type()).detach() : rois;
  return RoIAlignFunction::apply(x, r, o.spatial_scale, o.pooled_height, o.pooled_width, o.sampling_ratio, o.aligned);
}

torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double iou_threshold) {
  XL_CHECK(boxes.defined() && boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be [N, 4], got ",
           boxes.defined() ? shape_of(boxes) : "undefined");
  XL_CHECK(scores.defined() && scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be [",
           boxes.size(0), "], got ", scores.defined() ? shape_of(scores) : "undefined");
  XL_CHECK(boxes.device() == scores.device(), "nms: boxes on ", boxes.device(), " but scores on ", scores.device());
  XL_CHECK(boxes.is_floating_point(), "nms: boxes must be floating point, got ", boxes.scalar_type());
  XL_CHECK(std::isfinite(iou_threshold), "nms: iou_threshold must be finite, got ", iou_threshold);
  if (boxes.size(0) == 0) return torch::empty({0}, boxes.options().dtype(torch::kLong));
  const auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  const auto sorted = boxes.index_select(0, order).contiguous();
  if (boxes.is_cuda()) {
#ifdef XRAYLIFT_WITH_CUDA
    return order.index_select(0, cuda::nms(sorted, iou_threshold));
#else
    no_cuda("nms");
#endif
  }
  XL_CHECK(boxes.device().is_cpu(), "nms: unsupported device ", boxes.device());
  std::vector<std::int64_t> keep;
  if (sorted.scalar_type() == torch::kDouble) {
    keep = nms_sorted_cpu<double>(sorted.data_ptr<double>(), sorted.size(0), iou_threshold);
  } else {
    const auto f = sorted.to(torch::kFloat);
    keep = nms_sorted_cpu<float>(f.data_ptr<float>(), f.size(0), iou_threshold);
  }
  const auto keep_t = torch::from_blob(keep.data(), {static_cast<std::int64_t>(keep.size())}, torch::kLong).clone();
  return order.index_select(0, keep_t);
}

torch::Tensor batched_nms(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& idxs,
                          double iou_threshold) {
  XL_CHECK(boxes.defined() && boxes.dim() == 2 && boxes.size(1) == 4, "batched_nms: boxes must be [N, 4], got ",
           boxes.defined() ? shape_of(boxes) : "undefined");
  XL_CHECK(idxs.defined() && idxs.dim() == 1 && idxs.size(0) == boxes.size(0), "batched_nms: idxs must be [",
           boxes.size(0), "], got ", idxs.defined() ? shape_of(idxs) : "undefined");
  XL_CHECK(!idxs.is_floating_point(), "batched_nms: idxs must be integer, got ", idxs.scalar_type());
  if (boxes.size(0) == 0) return torch::empty({0}, boxes.options().dtype(torch::kLong));
  // Offset each group far from the others so no cross-group pair overlaps (torchvision's trick).
  // The span stays a 0-d tensor on the boxes' device: no host synchronisation (.item()) on CUDA.
  const auto b = boxes.to(torch::kDouble);
  const auto span = b.max() - b.min() + 1.0;
  const auto offsets = idxs.to(torch::kDouble).unsqueeze(1) * span;
  return nms((b + offsets).to(boxes.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat), scores,
             iou_threshold);
}

torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b) {
  XL_CHECK(a.dim() == 2 && a.size(1) == 4 && b.dim() == 2 && b.size(1) == 4,
           "box_iou: boxes must be [N, 4] and [M, 4], got ", shape_of(a), " and ", shape_of(b));
  const auto area_a = (a.select(1, 2) - a.select(1, 0)).clamp_min(0) * (a.select(1, 3) - a.select(1, 1)).clamp_min(0);
  const auto area_b = (b.select(1, 2) - b.select(1, 0)).clamp_min(0) * (b.select(1, 3) - b.select(1, 1)).clamp_min(0);
  const auto lt = torch::max(a.unsqueeze(1).slice(2, 0, 2), b.unsqueeze(0).slice(2, 0, 2));
  const auto rb = torch::min(a.unsqueeze(1).slice(2, 2, 4), b.unsqueeze(0).slice(2, 2, 4));
  const auto wh = (rb - lt).clamp_min(0);
  const auto inter = wh.select(2, 0) * wh.select(2, 1);
  const auto uni = area_a.unsqueeze(1) + area_b.unsqueeze(0) - inter;
  return torch::where(uni > 0, inter / uni.clamp_min(1e-12), torch::zeros_like(inter));
}

torch::Tensor box_iof(const torch::Tensor& a, const torch::Tensor& b) {
  XL_CHECK(a.dim() == 2 && a.size(1) == 4 && b.dim() == 2 && b.size(1) == 4,
           "box_iof: boxes must be [N, 4] and [M, 4], got ", shape_of(a), " and ", shape_of(b));
  const auto area_a = (a.select(1, 2) - a.select(1, 0)).clamp_min(0) * (a.select(1, 3) - a.select(1, 1)).clamp_min(0);
  const auto lt = torch::max(a.unsqueeze(1).slice(2, 0, 2), b.unsqueeze(0).slice(2, 0, 2));
  const auto rb = torch::min(a.unsqueeze(1).slice(2, 2, 4), b.unsqueeze(0).slice(2, 2, 4));
  const auto wh = (rb - lt).clamp_min(0);
  const auto inter = wh.select(2, 0) * wh.select(2, 1);
  const auto denom = area_a.unsqueeze(1).expand_as(inter);
  return torch::where(denom > 0, inter / denom.clamp_min(1e-12), torch::zeros_like(inter));
}

torch::Tensor assign_fpn_levels(const torch::Tensor& boxes, const std::vector<std::int64_t>& strides,
                                double canonical_scale, double canonical_level) {
  XL_CHECK(!strides.empty(), "assign_fpn_levels: no levels");
  XL_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "assign_fpn_levels: boxes must be [K, 4], got ", shape_of(boxes));
  const double k_min = std::log2(static_cast<double>(strides.front()));
  const double k_max = std::log2(static_cast<double>(strides.back()));
  const auto area = (boxes.select(1, 2) - boxes.select(1, 0)) * (boxes.select(1, 3) - boxes.select(1, 1));
  const auto k = torch::floor(canonical_level +
                              torch::log2(area.to(torch::kFloat).clamp_min(1e-6).sqrt() / canonical_scale) + 1e-6);
  return (k.clamp(k_min, k_max) - k_min).to(torch::kLong);
}

torch::Tensor multi_level_roi_align(const std::vector<torch::Tensor>& features,
                                    const std::vector<std::int64_t>& strides, const torch::Tensor& rois,
                                    RoIAlignOptions options, double canonical_scale, double canonical_level) {
  XL_CHECK(!features.empty() && features.size() == strides.size(), "multi_level_roi_align: ", features.size(),
           " feature maps but ", strides.size(), " strides");
  for (std::size_t i = 1; i < strides.size(); ++i)
    XL_CHECK(strides[i] > strides[i - 1], "multi_level_roi_align: strides must increase, got ", strides[i - 1],
             " then ", strides[i]);
  XL_CHECK(rois.dim() == 2 && rois.size(1) == 5, "multi_level_roi_align: rois must be [K, 5], got ", shape_of(rois));
  const auto& f0 = features.front();
  const bool reduced = f0.scalar_type() == torch::kHalf || f0.scalar_type() == torch::kBFloat16;
  auto output = torch::zeros({rois.size(0), f0.size(1), options.pooled_height, options.pooled_width},
                             f0.options().dtype(reduced ? torch::kFloat : f0.scalar_type()));
  if (rois.size(0) == 0) return output;
  if (features.size() == 1) {
    options.spatial_scale = 1.0 / static_cast<double>(strides[0]);
    return roi_align(f0, rois, options);
  }
  const auto levels = assign_fpn_levels(rois.slice(1, 1, 5), strides, canonical_scale, canonical_level);
  // RoIs grouped by level with one stable sort on their device and one read-back of the per-level counts (a
  // nonzero per level would synchronise the host once per level); within a level the order is the RoI order.
  const auto by_level = std::get<1>(levels.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  const auto counts =
      torch::bincount(levels, {}, static_cast<std::int64_t>(features.size())).to(torch::kCPU, torch::kLong);
  const std::int64_t* count = counts.data_ptr<std::int64_t>();
  std::int64_t first = 0;
  for (std::size_t l = 0; l < features.size(); ++l) {
    const std::int64_t n = count[l];
    const auto idx = by_level.slice(0, first, first + n);
    first += n;
    if (n == 0) continue;
    options.spatial_scale = 1.0 / static_cast<double>(strides[l]);
    const auto pooled = roi_align(features[l], rois.index_select(0, idx), options);
    output = output.index_copy(0, idx, pooled.to(output.scalar_type()));
  }
  return output;
}

}  // namespace xraylift::detect2d
