// The .npy reader (core::read_npy, and read_line_integrals as the view-set loader calls it): returns an array or
// raises core::InputError; a returned array holds exactly the values its shape declares.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_scratch.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"

namespace fs = std::filesystem;

namespace {
fs::path folder;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  folder = xraylift::fuzz::scratch_folder("npy");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path file = folder / "in.npy";
  xraylift::fuzz::write_input(file, data, size);
  try {
    const auto a = xraylift::core::read_npy(file);
    std::int64_t count = 1;
    for (auto d : a.shape) count *= d;
    if (static_cast<std::int64_t>(a.data.size()) != count) __builtin_trap();
    if (a.shape.size() == 2) xraylift::core::read_line_integrals(file, a.shape[0], a.shape[1]);
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
