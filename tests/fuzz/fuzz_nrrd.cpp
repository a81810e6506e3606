// The NRRD reader (data::read_nrrd, read_nrrd_u8) on a fuzzed file: returns a volume or raises core::InputError,
// whatever the bytes; declared sizes never reach the allocator unchecked (the harness runs under a 4 GB RSS limit).
// What reads is written back and must read to the same voxels.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_scratch.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/data/nrrd.hpp"

namespace fs = std::filesystem;

namespace {
fs::path folder;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  folder = xraylift::fuzz::scratch_folder("nrrd");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path file = folder / "in.nrrd";
  xraylift::fuzz::write_input(file, data, size);
  try {
    const auto v = xraylift::data::read_nrrd(file);
    xraylift::data::write_nrrd(folder / "again.nrrd", v, false);
    if (xraylift::data::read_nrrd(folder / "again.nrrd").values() != v.values()) __builtin_trap();
  } catch (const xraylift::core::InputError&) {}
  try {
    xraylift::data::read_nrrd_u8(file);
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
