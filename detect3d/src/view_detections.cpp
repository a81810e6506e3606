#include "xraylift/detect3d/view_detections.hpp"

#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d {

void ViewDetections::validate(const std::string& where) const {
  if (boxes.size() != scores.size())
    throw core::InputError(core::cat(where, ": ", boxes.size(), " boxes but ", scores.size(), " scores"));
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const auto& b = boxes[i];
    if (!(std::isfinite(b.x0) && std::isfinite(b.y0) && std::isfinite(b.x1) && std::isfinite(b.y1)) || b.empty())
      throw core::InputError(core::cat(where, ": boxes[", i, "] = [", b.x0, ", ", b.y0, ", ", b.x1, ", ", b.y1,
                                       "], expected a finite box with x0 < x1 and y0 < y1"));
    if (!(scores[i] >= 0.0 && scores[i] <= 1.0))
      throw core::InputError(core::cat(where, ": scores[", i, "] = ", scores[i], ", expected a value in [0, 1]"));
  }
}

}  // namespace xraylift::detect3d
