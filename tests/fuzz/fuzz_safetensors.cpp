// The safetensors header (core::parse_safetensors_header, what detect2d's weight reader trusts before it
// allocates a tensor): entries or core::InputError; every returned entry's byte range lies in the file and
// matches its shape and dtype. (Torch archives are parsed by libtorch itself and are not fuzzed here.)
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "xraylift/core/error.hpp"
#include "xraylift/core/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    xraylift::core::looks_like_safetensors(bytes);
    for (const auto& e : xraylift::core::parse_safetensors_header(bytes, "fuzz.safetensors")) {
      std::uint64_t elements = 1;
      for (auto d : e.shape) elements *= static_cast<std::uint64_t>(d);
      const auto element_bytes = static_cast<std::uint64_t>(xraylift::core::safetensors_dtype_bytes(e.dtype));
      if (e.begin > e.end || e.end > size || e.end - e.begin != elements * element_bytes) __builtin_trap();
    }
  } catch (const xraylift::core::InputError&) {}
  try {  // the metadata strings (the method a weights file was written for)
    xraylift::core::parse_safetensors_metadata(bytes, "fuzz.safetensors");
  } catch (const xraylift::core::InputError&) {}
  return 0;
}
