// The dataset manifest reader (data::read_manifest, xraylift.manifest JSON) and render's manifest reader (the
// same JSON, or one path per line): returns entries or raises core::InputError; what reads writes back and reads
// to as many cases.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_scratch.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/manifest.hpp"

namespace fs = std::filesystem;

namespace {
fs::path folder;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  folder = xraylift::fuzz::scratch_folder("manifest");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path file = folder / "manifest.json";
  xraylift::fuzz::write_input(file, data, size);
  try {
    const auto m = xraylift::data::read_manifest(file);
    xraylift::data::write_manifest(folder / "again.json", m);
    if (xraylift::data::read_manifest(folder / "again.json").cases.size() != m.cases.size()) __builtin_trap();
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
