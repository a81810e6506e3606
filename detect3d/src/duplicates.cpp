#include "xraylift/detect3d/duplicates.hpp"

#include <algorithm>
#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d {

bool DuplicateRule::keeps_all() const { return criterion == Criterion::kIou ? threshold >= 1.0 : threshold <= 0.0; }

bool DuplicateRule::duplicates(const core::Box3D& a, const core::Box3D& b) const {
  if (keeps_all()) return false;
  if (criterion == Criterion::kIou) return core::iou(a, b) > threshold;
  return (a.center - b.center).norm() < threshold;
}

void DuplicateRule::validate(const char* option) const {
  const bool ok =
      std::isfinite(threshold) && (criterion == Criterion::kIou ? threshold >= 0 && threshold <= 1 : threshold >= 0);
  if (!ok)
    throw core::ConfigError(core::cat(option, " = ", threshold, ": expected ",
                                      criterion == Criterion::kIou ? "an IoU in [0, 1]" : "a distance >= 0 mm"));
}

bool duplicates_any(const std::vector<core::Box3D>& kept, const core::Box3D& candidate, const DuplicateRule& rule) {
  return std::any_of(kept.begin(), kept.end(), [&](const core::Box3D& k) { return rule.duplicates(k, candidate); });
}

}  // namespace xraylift::detect3d
