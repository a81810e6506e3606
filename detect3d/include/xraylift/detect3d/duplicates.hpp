#pragma once
// 3D duplicate removal, one rule for every method: two predictions are duplicates when their boxes overlap by IoU
// above a threshold (triangulate's `merge_iou`) or their centres lie closer than a distance (MV2D's
// `test.nms_3d_distance_mm`); the better-scored one stays. Torch-free.
#include <vector>

#include "xraylift/core/box.hpp"

namespace xraylift::detect3d {

struct DuplicateRule {
  enum class Criterion { kIou, kCenterDistance };
  Criterion criterion = Criterion::kIou;
  // kIou: duplicates when IoU > threshold (>= 1 keeps all); kCenterDistance: when the centres are closer than
  // threshold mm (<= 0 keeps all).
  double threshold = 1.0;

  bool keeps_all() const;
  bool duplicates(const core::Box3D& a, const core::Box3D& b) const;
  void validate(const char* option) const;  // ConfigError naming the option
};

// Whether `candidate` duplicates any of `kept` (boxes taken best first).
bool duplicates_any(const std::vector<core::Box3D>& kept, const core::Box3D& candidate, const DuplicateRule& rule);

}  // namespace xraylift::detect3d
