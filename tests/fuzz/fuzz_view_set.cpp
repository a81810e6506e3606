// xraylift.views JSON (the DRR stage's infos.json, read by the detectors): parses or raises core::InputError;
// what parses writes back and parses again.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "xraylift/core/error.hpp"
#include "xraylift/core/view_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return 0;  // read_view_set turns these into InputError; the parser under test is the schema reader
  }
  try {
    const auto set = xraylift::core::view_set_from_json(doc, "fuzz.json");
    const auto again = xraylift::core::view_set_from_json(xraylift::core::to_json(set), "again.json");
    if (again.views.size() != set.views.size() || again.boxes_3d.size() != set.boxes_3d.size()) __builtin_trap();
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
