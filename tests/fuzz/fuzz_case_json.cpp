// A case folder's header files (data::load_case_header: case.json, then nodules.json, xraylift.case). Input:
// case.json, optionally followed by "\n@@nodules\n" and nodules.json (otherwise an empty box set); the reader
// returns a case or raises core::InputError.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_scratch.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/case.hpp"

namespace fs = std::filesystem;

namespace {
fs::path folder;

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  folder = xraylift::fuzz::scratch_root() / ("xraylift-fuzz-case-" + std::to_string(getpid()));
  fs::create_directories(folder);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string separator = "\n@@nodules\n";
  const auto split = text.find(separator);
  write(folder / "case.json", text.substr(0, split));
  write(folder / "nodules.json", split == std::string::npos
                                     ? std::string(R"({"format": "xraylift.boxes3d", "version": 1, "cases": []})")
                                     : text.substr(split + separator.size()));
  try {
    const auto c = xraylift::data::load_case_header(folder);
    if (c.id.empty()) __builtin_trap();  // the reader's own invariant
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
