#pragma once
// The safetensors container (8-byte little-endian header length, a JSON header, raw little-endian tensors),
// parsed without torch so that it can be fuzzed (tests/fuzz/fuzz_safetensors.cpp). detect2d's weight reader
// builds its tensors from these entries.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace xraylift::core {

// Limits stated before anything is allocated: the header size (as the safetensors reference reader) and the
// elements of one tensor.
constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;
constexpr std::int64_t kMaxTensorElements = std::int64_t(1) << 34;
constexpr std::size_t kMaxTensorDims = 16;

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "BF16", ... (safetensors_dtype_bytes knows them)
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte range of the data in the whole file
};

// Whether the bytes start like a safetensors file (a header length that fits, then '{').
bool looks_like_safetensors(std::string_view bytes);
// Bytes per element of a safetensors dtype name; 0 when the name is unknown.
int safetensors_dtype_bytes(const std::string& dtype);
// Every tensor entry ("__metadata__" skipped). InputError naming `where`, the tensor and the field when the
// header is malformed, a shape is negative, has too many elements or does not match its byte range, or a range
// leaves the file.
std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view bytes, const std::string& where);
// The header's "__metadata__" map of strings (empty when absent); InputError naming `where` as above, or when an
// entry is not a string.
std::map<std::string, std::string> parse_safetensors_metadata(std::string_view bytes, const std::string& where);

}  // namespace xraylift::core
