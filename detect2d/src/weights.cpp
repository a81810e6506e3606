// Weight files: a small dependency-free safetensors reader/writer and torch archive readers; load by name.
#include "xraylift/detect2d/weights.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/safetensors.hpp"
#include "xraylift/train/torch_archive.hpp"

namespace xraylift::detect2d {
namespace {

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};
const DtypeName kDtypes[] = {{"F32", torch::kFloat},     {"F64", torch::kDouble}, {"F16", torch::kHalf},
                             {"BF16", torch::kBFloat16}, {"I64", torch::kLong},   {"I32", torch::kInt},
                             {"U8", torch::kByte},       {"I8", torch::kChar},    {"BOOL", torch::kBool}};

std::string shape_text(torch::IntArrayRef s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

// Every size in the header is checked (core::parse_safetensors_header) before a tensor is allocated.
std::map<std::string, torch::Tensor> parse_safetensors(const std::string& bytes, const std::string& where) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& e : core::parse_safetensors_header(bytes, where)) {
    const DtypeName* known = nullptr;
    for (const auto& d : kDtypes)
      if (e.dtype == d.name) known = &d;
    XL_CHECK(known, where, ": tensor '", e.name, "' has unsupported dtype ", e.dtype);
    auto t = torch::empty(e.shape, torch::TensorOptions().dtype(known->type));
    XL_CHECK(static_cast<std::uint64_t>(t.nbytes()) == e.end - e.begin, where, ": tensor '", e.name, "' has ",
             e.end - e.begin, " bytes but needs ", t.nbytes());
    std::memcpy(t.data_ptr(), bytes.data() + e.begin, t.nbytes());
    out[e.name] = t;
  }
  return out;
}

void read_archive(torch::serialize::InputArchive& archive, const std::string& prefix,
                  std::map<std::string, torch::Tensor>& out) {
  for (const auto& key : archive.keys()) {
    c10::IValue value;
    if (archive.try_read(key, value) && value.isTensor()) {
      out[prefix + key] = value.toTensor();
      continue;
    }
    torch::serialize::InputArchive child;
    if (archive.try_read(key, child)) read_archive(child, prefix + key + ".", out);
  }
}

// libtorch's message without its C++ backtrace: c10::Error::what() symbolizes the backtrace (dladdr over every
// frame, ~10 ms; 70 % of the time of a rejected file in the fuzz loop) and the frames say nothing to a user.
std::string torch_error_text(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

// A tensor read from a file must be dense and lie inside its storage: libtorch's unpickler sets sizes, strides and
// offset without checking them against the storage (tests/fuzz/corpus/torch_weights/crash-record-shorter-than-storage:
// 16 bytes declared over a 0-byte record), and the first read of such a tensor runs past the buffer.
void check_fits_storage(const torch::Tensor& t, const std::string& name, const std::string& where) {
  XL_CHECK(t.defined() && t.layout() == torch::kStrided && !t.is_quantized(), where, ": tensor '", name,
           "' is not a dense tensor");
  std::int64_t last = t.storage_offset();  // the furthest element (-1: none)
  XL_CHECK(last >= 0, where, ": tensor '", name, "' has storage offset ", last);
  for (std::int64_t d = 0; d < t.dim(); ++d) {
    XL_CHECK(t.size(d) >= 0 && t.stride(d) >= 0, where, ": tensor '", name, "' has size ", t.size(d), " / stride ",
             t.stride(d), " in dimension ", d);
    if (t.size(d) == 0) last = -1;
    std::int64_t step = 0;
    if (last >= 0 &&
        (__builtin_mul_overflow(t.size(d) - 1, t.stride(d), &step) || __builtin_add_overflow(last, step, &last)))
      throw core::InputError(core::cat(where, ": tensor '", name, "' has sizes and strides beyond any storage"));
  }
  if (last < 0) return;
  std::int64_t needed = 0;
  const bool overflow = __builtin_mul_overflow(last + 1, static_cast<std::int64_t>(t.element_size()), &needed);
  XL_CHECK(!overflow && needed <= static_cast<std::int64_t>(t.storage().nbytes()), where, ": tensor '", name,
           "' needs ", overflow ? std::string("more than 2^63") : std::to_string(needed), " bytes but its data holds ",
           t.storage().nbytes(), " (a truncated or corrupted file)");
}

}  // namespace

std::string WeightLoadReport::summary() const {
  std::ostringstream os;
  os << loaded.size() << " loaded, " << missing.size() << " missing, " << unexpected.size() << " unexpected, "
     << mismatched.size() << " shape mismatches";
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    os << "\n  " << what << ":";
    for (std::size_t i = 0; i < v.size() && i < 20; ++i) os << "\n    " << v[i];
    if (v.size() > 20) os << "\n    ... " << v.size() - 20 << " more";
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("shape mismatches", mismatched);
  return os.str();
}

std::map<std::string, torch::Tensor> read_state_dict(const std::filesystem::path& path) {
  const std::string bytes = core::read_file(path);
  if (core::looks_like_safetensors(bytes)) return parse_safetensors(bytes, path.string());
  // Before libtorch reads it; every file that is not safetensors (miniz finds a zip by its end record, whatever
  // the first bytes: a check only of files that start like one let such a file through).
  train::check_torch_archive(bytes, path.string());
  std::map<std::string, torch::Tensor> out;
  std::string archive_error;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string());
    read_archive(archive, "", out);
    for (const auto& [name, t] : out) check_fits_storage(t, name, path.string());
    if (!out.empty()) return out;
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    archive_error = torch_error_text(e);
  }
  try {  // Python torch.save(state_dict) (zip pickle)
    const auto value = train::load_torch_pickle(bytes);
    XL_CHECK(value.isGenericDict(), path.string(), ": torch.save file does not hold a dict of tensors");
    for (const auto& item : value.toGenericDict()) {
      if (item.key().isString() && item.value().isTensor()) out[item.key().toStringRef()] = item.value().toTensor();
    }
    for (const auto& [name, t] : out) check_fits_storage(t, name, path.string());
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::InputError(core::cat(path.string(), ": not a safetensors file or a torch archive (",
                                     archive_error.substr(0, 200), " / ", torch_error_text(e).substr(0, 200), ")"));
  }
  XL_CHECK(!out.empty(), path.string(), ": no tensors found");
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    const auto t = tensor.detach().cpu().contiguous();
    const char* dt = nullptr;
    for (const auto& d : kDtypes)
      if (d.type == t.scalar_type()) dt = d.name;
    XL_CHECK(dt, "write_safetensors: tensor '", name, "' has unsupported dtype ", t.scalar_type());
    const auto begin = data.size();
    data.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
    header[name] = {{"dtype", dt}, {"shape", t.sizes().vec()}, {"data_offsets", {begin, data.size()}}};
  }
  std::string head = header.dump();
  while ((head.size() + 8) % 8) head.push_back(' ');  // keep tensor data 8-byte aligned
  std::string bytes(8, '\0');
  const std::uint64_t n = head.size();
  std::memcpy(bytes.data(), &n, 8);
  core::write_file_atomic(path, bytes + head + data);
}

std::map<std::string, std::string> read_weights_metadata(const std::filesystem::path& path) {
  const std::string bytes = core::read_file(path);
  if (!core::looks_like_safetensors(bytes)) return {};
  return core::parse_safetensors_metadata(bytes, path.string());
}

WeightLoadReport load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& state) {
  WeightLoadReport report;
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : module.named_parameters(true)) targets[p.key()] = p.value();
  for (const auto& b : module.named_buffers(true)) targets[b.key()] = b.value();
  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : targets) {
    const auto it = state.find(name);
    if (it == state.end()) {
      report.missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != target.sizes()) {
      report.mismatched.push_back(
          core::cat(name, ": file ", shape_text(it->second.sizes()), " vs model ", shape_text(target.sizes())));
      continue;
    }
    auto t = target;
    t.copy_(it->second.to(target.device(), target.scalar_type()));
    report.loaded.push_back(name);
  }
  for (const auto& [name, tensor] : state)
    if (!targets.count(name)) report.unexpected.push_back(name);
  return report;
}

WeightLoadReport load_weights(torch::nn::Module& module, const std::filesystem::path& path,
                              const std::string& strip_prefix) {
  auto raw = read_state_dict(path);
  std::map<std::string, torch::Tensor> state;
  for (auto& [k, v] : raw) {
    const bool strip = !strip_prefix.empty() && k.rfind(strip_prefix, 0) == 0;
    state[strip ? k.substr(strip_prefix.size()) : k] = v;
  }
  auto report = load_state_dict(module, state);
  core::log::info("weights from ", path.string(), ": ", report.summary());
  return report;
}

}  // namespace xraylift::detect2d
