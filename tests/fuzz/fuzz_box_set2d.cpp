// xraylift.boxes2d JSON: parses or raises core::InputError; a parsed truth file scores against itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "xraylift/core/error.hpp"
#include "xraylift/eval/box_set2d.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto set = xraylift::eval::parse_box_set2d(text, "fuzz.json");
    const auto again = xraylift::eval::parse_box_set2d(xraylift::eval::to_json(set), "again.json");
    if (again.box_count() != set.box_count()) __builtin_trap();
    if (set.source == xraylift::core::BoxSource::kTruth && set.box_count() < 2000) {
      auto preds = set;
      preds.source = xraylift::core::BoxSource::kPrediction;
      for (auto& img : preds.images) {
        img.boxes.erase(std::remove_if(img.boxes.begin(), img.boxes.end(), [](const auto& b) { return b.ignore; }),
                        img.boxes.end());
        for (auto& b : img.boxes) b.score = 0.5;
      }
      (void)xraylift::eval::evaluate_views(set, "t", preds, "p");
    }
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
