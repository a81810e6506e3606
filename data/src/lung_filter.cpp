#include "xraylift/data/lung_filter.hpp"

#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::data {

LungFilterResult keep_inside_lungs(const std::vector<core::BoxRecord>& boxes, const core::VolumeU8& labels,
                                   double margin_mm) {
  XL_CHECK(std::isfinite(margin_mm) && margin_mm >= 0, "lung filter: margin ", margin_mm, " mm, expected >= 0");
  const Eigen::Vector3i dims = labels.geometry().dims;
  XL_CHECK(dims.x() > 0 && dims.y() > 0 && dims.z() > 0, "lung filter: empty lung mask");
  LungFilterResult r;
  for (const auto& b : boxes) {
    const Eigen::Vector3d ijk = labels.world_to_index(b.box.center);
    bool inside = ijk.allFinite();
    int idx[3] = {0, 0, 0};
    for (int a = 0; a < 3 && inside; ++a) {
      const double n = std::round(ijk(a));  // voxel values sit at their centres (docs/ARCHITECTURE.md)
      inside = n >= 0 && n < dims(a);
      idx[a] = inside ? static_cast<int>(n) : 0;
    }
    bool keep = inside && labels.at(idx[0], idx[1], idx[2]) != 0;
    if (!keep) {  // the box reaching into the lungs: a juxta-pleural nodule's own voxels are not lung in the mask
      const Eigen::Vector3d m = Eigen::Vector3d::Constant(margin_mm);
      const Eigen::Vector3d lo = labels.world_to_index(b.box.min() - m), hi = labels.world_to_index(b.box.max() + m);
      int from[3], to[3];
      bool any = lo.allFinite() && hi.allFinite();
      for (int a = 0; a < 3 && any; ++a) {
        const double l = std::min(lo(a), hi(a)), h = std::max(lo(a), hi(a));
        from[a] = static_cast<int>(std::max(0.0, std::ceil(l)));
        to[a] = static_cast<int>(std::min(double(dims(a) - 1), std::floor(h)));
        any = from[a] <= to[a];
      }
      for (int k = any ? from[2] : 1, kend = any ? to[2] : 0; k <= kend && !keep; ++k)
        for (int j = from[1]; j <= to[1] && !keep; ++j)
          for (int i = from[0]; i <= to[0] && !keep; ++i) keep = labels.at(i, j, k) != 0;
    }
    (keep ? r.kept : r.removed).push_back(b);
  }
  return r;
}

}  // namespace xraylift::data
