// A case folder's header files (data::load_case_header: case.json, then nodules.json, xraylift.case). Input:
// case.json, optionally followed by "\n@@nodules\n" and nodules.json (otherwise an empty box set); the reader
// returns a case or raises core::InputError.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_scratch.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/case.hpp"

namespace fs = std::filesystem;

namespace {
fs::path folder;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  folder = xraylift::fuzz::scratch_folder("case");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string separator = "\n@@nodules\n";
  const auto split = text.find(separator);
  xraylift::fuzz::write_input(folder / "case.json", text.substr(0, split));
  xraylift::fuzz::write_input(folder / "nodules.json",
                              split == std::string::npos
                                  ? std::string(R"({"format": "xraylift.boxes3d", "version": 1, "cases": []})")
                                  : text.substr(split + separator.size()));
  try {
    const auto c = xraylift::data::load_case_header(folder);
    if (c.id.empty()) __builtin_trap();  // the reader's own invariant
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
