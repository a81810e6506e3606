// Weight files: safetensors (train/safetensors.hpp) and Python torch.save state dicts; load by name.
#include "xraylift/detect2d/weights.hpp"

#include <sstream>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"
#include "xraylift/core/safetensors.hpp"
#include "xraylift/train/safetensors.hpp"
#include "xraylift/train/torch_archive.hpp"

namespace xraylift::detect2d {
namespace {

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
  // Only the element types a state dict of real weights holds: libtorch's sub-byte, bit and float8 types unpickle
  // but cannot be converted to float (copy_ throws c10::NotImplementedError past every caller:
  // tests/fuzz/corpus/torch_weights/crash-int2-storage).
  const auto type = t.scalar_type();
  XL_CHECK(type == torch::kFloat || type == torch::kHalf || type == torch::kBFloat16 || type == torch::kDouble ||
               type == torch::kLong || type == torch::kInt || type == torch::kShort || type == torch::kChar ||
               type == torch::kByte || type == torch::kBool,
           where, ": tensor '", name, "' has element type ", c10::toString(type),
           "; expected a float (32, 16, bfloat16, 64), integer (8-64 bit) or bool tensor");
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
  if (core::looks_like_safetensors(bytes)) {
    // A header of only __metadata__ is a valid container but no weights (the fuzz loop's
    // tests/fuzz/corpus/torch_weights/crash-safetensors-without-tensors came back as an empty state).
    auto out = train::parse_safetensors(bytes, path.string());
    XL_CHECK(!out.empty(), path.string(), ": no tensors found");
    return out;
  }
  // Every file that is not safetensors is looked at as a zip (miniz finds one by its end record, whatever the first
  // bytes: a check only of files that start like one let such a file through). A TorchScript archive is refused
  // before anything reads its pickles: libtorch would compile the code it carries (docs/RELIABILITY.md).
  const std::string script_record = train::torchscript_record(train::torch_archive_records(bytes, path.string()));
  if (!script_record.empty())
    throw core::InputError(core::cat(
        path.string(), " is a TorchScript / libtorch archive (record '", script_record,
        "'; torch.jit.save, or C++ torch::save of a module such as an old xraylift model.pt), which xraylift no "
        "longer reads (libtorch compiles the code such files carry): convert it to safetensors with the same names, "
        "`python scripts/convert_weights.py ",
        path.string(), " <out>.safetensors`, or train again (train writes model.safetensors)"));
  train::check_torch_archive(bytes, path.string());
  std::map<std::string, torch::Tensor> out;
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
    throw core::InputError(core::cat(path.string(), ": not a safetensors file or a torch.save state dict (",
                                     torch_error_text(e).substr(0, 300), ")"));
  }
  XL_CHECK(!out.empty(), path.string(), ": no tensors found");
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  train::write_safetensors(path, tensors, metadata);
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
      report.mismatched.push_back(core::cat(name, ": file ", train::shape_text(it->second.sizes()), " vs model ",
                                            train::shape_text(target.sizes())));
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
