#include "xraylift/core/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <cstring>

#include "xraylift/core/error.hpp"

namespace xraylift::core {
namespace {

struct Dtype {
  const char* name;
  int bytes;
};
constexpr Dtype kDtypes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                             {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};

std::uint64_t header_length(std::string_view bytes) {
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return n;
}

}  // namespace

int safetensors_dtype_bytes(const std::string& dtype) {
  for (const auto& d : kDtypes)
    if (dtype == d.name) return d.bytes;
  return 0;
}

bool looks_like_safetensors(std::string_view bytes) {
  if (bytes.size() < 10) return false;
  const std::uint64_t n = header_length(bytes);
  return n <= bytes.size() - 8 && bytes[8] == '{';
}

namespace {

nlohmann::json header_json(std::string_view bytes, const std::string& where) {
  XL_CHECK(bytes.size() >= 10, where, ": ", bytes.size(), " bytes, too short for a safetensors file");
  const std::uint64_t n = header_length(bytes);
  XL_CHECK(n <= kMaxSafetensorsHeaderBytes && n <= bytes.size() - 8, where, ": safetensors header length ", n,
           ", expected at most ", std::min<std::uint64_t>(kMaxSafetensorsHeaderBytes, bytes.size() - 8),
           " (the limit and the file's size)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(cat(where, ": malformed safetensors header: ", e.what()));
  }
  XL_CHECK(header.is_object(), where, ": safetensors header is not a JSON object");
  return header;
}

}  // namespace

std::map<std::string, std::string> parse_safetensors_metadata(std::string_view bytes, const std::string& where) {
  const nlohmann::json header = header_json(bytes, where);
  std::map<std::string, std::string> out;
  if (!header.contains("__metadata__")) return out;
  const auto& meta = header["__metadata__"];
  XL_CHECK(meta.is_object(), where, ": safetensors __metadata__ is not a map of strings");
  for (auto it = meta.begin(); it != meta.end(); ++it) {
    XL_CHECK(it.value().is_string(), where, ": safetensors __metadata__ entry '", it.key(), "' is not a string");
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view bytes, const std::string& where) {
  const nlohmann::json header = header_json(bytes, where);
  const std::uint64_t n = header_length(bytes);
  const std::uint64_t data_start = 8 + n, data_bytes = bytes.size() - data_start;
  std::vector<SafetensorsEntry> out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& e = it.value();
    const std::string at = cat(where, ": tensor '", it.key(), "'");
    XL_CHECK(e.is_object() && e.contains("dtype") && e.contains("shape") && e.contains("data_offsets"), at,
             " lacks dtype/shape/data_offsets");
    SafetensorsEntry entry;
    entry.name = it.key();
    XL_CHECK(e["dtype"].is_string(), at, ": dtype = ", e["dtype"].dump(), ", expected text");
    entry.dtype = e["dtype"].get<std::string>();
    const int element_bytes = safetensors_dtype_bytes(entry.dtype);
    XL_CHECK(element_bytes > 0, at, " has unsupported dtype ", entry.dtype);
    const auto& shape = e["shape"];
    XL_CHECK(shape.is_array() && shape.size() <= kMaxTensorDims, at, ": shape = ", shape.dump(),
             ", expected a list of at most ", kMaxTensorDims, " dimensions");
    std::int64_t elements = 1;
    for (const auto& d : shape) {
      XL_CHECK(d.is_number_integer() && d.get<std::int64_t>() >= 0, at, ": shape = ", shape.dump(),
               ", expected non-negative integers");
      const std::int64_t v = d.get<std::int64_t>();
      XL_CHECK(v <= kMaxTensorElements && (v == 0 || elements <= kMaxTensorElements / v), at, ": shape ", shape.dump(),
               " holds more than ", kMaxTensorElements, " elements (the reader's limit)");
      elements *= v;
      entry.shape.push_back(v);
    }
    const auto& offsets = e["data_offsets"];
    XL_CHECK(
        offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() && offsets[1].is_number_unsigned(),
        at, ": data_offsets = ", offsets.dump(), ", expected two non-negative integers");
    const auto first = offsets[0].get<std::uint64_t>(), last = offsets[1].get<std::uint64_t>();
    XL_CHECK(first <= last && last <= data_bytes, at, ": data_offsets [", first, ", ", last, "] leave the ", data_bytes,
             " data bytes of the file");
    const std::uint64_t needed = static_cast<std::uint64_t>(elements) * static_cast<std::uint64_t>(element_bytes);
    XL_CHECK(last - first == needed, at, " has ", last - first, " bytes but shape ", shape.dump(), " x ", entry.dtype,
             " needs ", needed);
    entry.begin = data_start + first;
    entry.end = data_start + last;
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace xraylift::core
