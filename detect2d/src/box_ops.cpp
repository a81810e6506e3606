// Box and FPN tensor code built from libtorch ops (any device, autograd through torch): IoU/IoF, FPN level
// assignment and RoIAlign over FPN levels (docs/detect2d.md).
#include <cmath>

#include "tensor_text.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/ops.hpp"

namespace xraylift::detect2d {
using detail::shape_of;
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
