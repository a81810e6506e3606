// CPU kernel of xraylift::nms (the twin of cuda/nms_kernel.cu): greedy suppression in decreasing score order,
// ties kept in index order (a stable sort).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

namespace xraylift::detect2d {
namespace {

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

at::Tensor nms_cpu(const at::Tensor& dets, const at::Tensor& scores, double iou_threshold) {
  if (dets.size(0) == 0) return at::empty({0}, dets.options().dtype(at::kLong));
  const auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  const auto sorted = dets.index_select(0, order).contiguous();
  std::vector<std::int64_t> keep;
  if (sorted.scalar_type() == at::kDouble) {
    keep = nms_sorted_cpu<double>(sorted.data_ptr<double>(), sorted.size(0), iou_threshold);
  } else {
    const auto f = sorted.to(at::kFloat);
    keep = nms_sorted_cpu<float>(f.data_ptr<float>(), f.size(0), iou_threshold);
  }
  const auto kept = at::from_blob(keep.data(), {static_cast<std::int64_t>(keep.size())}, at::kLong).clone();
  return order.index_select(0, kept);
}

}  // namespace

TORCH_LIBRARY_IMPL(xraylift, CPU, m) { m.impl("nms", TORCH_FN(nms_cpu)); }

}  // namespace xraylift::detect2d
