// torch tensors <-> safetensors files, on core's header parser.
#include "xraylift/train/safetensors.hpp"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <sstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/safetensors.hpp"

namespace xraylift::train {

std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream os;
  os << shape;
  return os.str();
}
namespace {

struct DtypeName {
  const char* name;
  at::ScalarType type;
};
const DtypeName kDtypes[] = {{"F32", at::kFloat},     {"F64", at::kDouble}, {"F16", at::kHalf},
                             {"BF16", at::kBFloat16}, {"I64", at::kLong},   {"I32", at::kInt},
                             {"U8", at::kByte},       {"I8", at::kChar},    {"BOOL", at::kBool}};

}  // namespace

std::string safetensors_dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes)
    if (d.type == type) return d.name;
  return {};
}

std::map<std::string, at::Tensor> parse_safetensors(const std::string& bytes, const std::string& where) {
  std::map<std::string, at::Tensor> out;
  for (const auto& e : core::parse_safetensors_header(bytes, where)) {
    const DtypeName* known = nullptr;
    for (const auto& d : kDtypes)
      if (e.dtype == d.name) known = &d;
    XL_CHECK(known, where, ": tensor '", e.name, "' has unsupported dtype ", e.dtype);
    auto t = at::empty(e.shape, at::TensorOptions().dtype(known->type));
    XL_CHECK(static_cast<std::uint64_t>(t.nbytes()) == e.end - e.begin, where, ": tensor '", e.name, "' has ",
             e.end - e.begin, " bytes but needs ", t.nbytes());
    if (t.nbytes() > 0) std::memcpy(t.data_ptr(), bytes.data() + e.begin, t.nbytes());
    out[e.name] = t;
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    const auto t = tensor.detach().cpu().contiguous();
    const std::string dtype = safetensors_dtype_name(t.scalar_type());
    XL_CHECK(!dtype.empty(), "write_safetensors: tensor '", name, "' has unsupported dtype ", t.scalar_type());
    const auto begin = data.size();
    if (t.nbytes() > 0) data.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
    header[name] = {{"dtype", dtype}, {"shape", t.sizes().vec()}, {"data_offsets", {begin, data.size()}}};
  }
  std::string head = header.dump();
  while ((head.size() + 8) % 8) head.push_back(' ');  // keep tensor data 8-byte aligned
  std::string bytes(8, '\0');
  const std::uint64_t n = head.size();
  std::memcpy(bytes.data(), &n, 8);
  core::write_file_atomic(path, bytes + head + data);
}

}  // namespace xraylift::train
