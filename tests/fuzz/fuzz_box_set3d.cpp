// xraylift.boxes3d JSON: parses or raises core::InputError; what parses writes back and parses to the same set.
#include <cstddef>
#include <cstdint>
#include <string>

#include "xraylift/core/box_set.hpp"
#include "xraylift/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto set = xraylift::core::parse_box_set(text, "fuzz.json");
    const auto again = xraylift::core::parse_box_set(xraylift::core::to_json(set), "again.json");
    if (again.box_count() != set.box_count() || again.cases.size() != set.cases.size()) __builtin_trap();
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
