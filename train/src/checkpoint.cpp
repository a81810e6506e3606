// The trainer's checkpoint in safetensors: written atomically, checked whole before anything is restored.
#include "xraylift/train/checkpoint.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <charconv>
#include <map>
#include <sstream>
#include <vector>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/safetensors.hpp"
#include "xraylift/train/safetensors.hpp"

namespace fs = std::filesystem;

namespace xraylift::train {
namespace {

struct OptimizedParam {
  std::string name;
  torch::Tensor param;
  bool amsgrad = false;
};

// The optimizer's parameters, by their names in the model, in the optimizer's order.
std::vector<OptimizedParam> optimized_params(const torch::nn::Module& model, const torch::optim::AdamW& optimizer) {
  std::map<const void*, std::string> names;
  for (const auto& p : model.named_parameters(true)) names.emplace(p.value().unsafeGetTensorImpl(), p.key());
  std::vector<OptimizedParam> out;
  for (const auto& group : optimizer.param_groups()) {
    const bool amsgrad = static_cast<const torch::optim::AdamWOptions&>(group.options()).amsgrad();
    for (const auto& p : group.params()) {
      const auto it = names.find(p.unsafeGetTensorImpl());
      XL_CHECK(it != names.end(), "checkpoint: the optimizer holds a tensor that is not a parameter of the model");
      out.push_back({it->second, p, amsgrad});
    }
  }
  return out;
}

torch::Tensor cpu_generator_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

}  // namespace

std::string model_signature(const torch::nn::Module& model) {
  std::ostringstream os;
  for (const auto& p : model.named_parameters(true)) os << p.key() << p.value().sizes() << ";";
  for (const auto& b : model.named_buffers(true)) os << b.key() << b.value().sizes() << ";";
  return os.str();
}

void write_checkpoint(const fs::path& path, const torch::nn::Module& model, const torch::optim::AdamW& optimizer,
                      std::int64_t step, const std::string& config_fingerprint) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : model.named_parameters(true)) tensors["model." + p.key()] = p.value();
  for (const auto& b : model.named_buffers(true)) tensors["model." + b.key()] = b.value();
  for (const auto& p : optimized_params(model, optimizer)) {
    const auto it = optimizer.state().find(p.param.unsafeGetTensorImpl());
    if (it == optimizer.state().end()) continue;  // no step taken yet (AdamW creates the state lazily)
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    const std::string key = "optim." + p.name + ".";
    tensors[key + "exp_avg"] = s.exp_avg();
    tensors[key + "exp_avg_sq"] = s.exp_avg_sq();
    if (s.max_exp_avg_sq().defined()) tensors[key + "max_exp_avg_sq"] = s.max_exp_avg_sq();
    tensors[key + "step"] = torch::tensor(static_cast<std::int64_t>(s.step()), torch::kLong);
  }
  tensors["rng_cpu"] = cpu_generator_state();
  const std::map<std::string, std::string> metadata{{"format", kCheckpointFormat},
                                                    {"format_version", std::to_string(kCheckpointFormatVersion)},
                                                    {"step", std::to_string(step)},
                                                    {"signature", model_signature(model)},
                                                    {"config_fingerprint", config_fingerprint},
                                                    {"param_groups", std::to_string(optimizer.param_groups().size())}};
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  write_safetensors(path, tensors, metadata);
}

std::int64_t read_checkpoint(const fs::path& path, torch::nn::Module& model, torch::optim::AdamW& optimizer,
                             const std::string& config_fingerprint) {
  const std::string where = core::cat("checkpoint '", path.string(), "'");
  XL_CHECK(fs::exists(path), where, " does not exist");
  const std::string bytes = core::read_file(path);
  if (!core::looks_like_safetensors(bytes))
    throw core::InputError(core::cat(
        where, " is not a safetensors checkpoint",
        bytes.rfind("PK", 0) == 0 ? " (a zip: the libtorch archive format of an older xraylift, no longer read)" : "",
        ": use another --out, or remove it to start over"));

  // The metadata: present, well-typed, this format.
  const auto meta = core::parse_safetensors_metadata(bytes, where);
  const auto text = [&](const char* key) -> const std::string& {
    const auto it = meta.find(key);
    XL_CHECK(it != meta.end(), where, ": __metadata__ has no '", key, "' (not a checkpoint that xraylift wrote)");
    return it->second;
  };
  const auto integer = [&](const char* key, std::int64_t min) {
    const std::string& value = text(key);
    std::int64_t n = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
    XL_CHECK(error == std::errc() && end == value.data() + value.size() && n >= min, where, ": __metadata__.", key,
             " = '", value, "', expected an integer >= ", min);
    return n;
  };
  XL_CHECK(text("format") == kCheckpointFormat, where, ": __metadata__.format = '", text("format"), "', expected '",
           kCheckpointFormat, "'");
  const std::int64_t version = integer("format_version", 1);
  XL_CHECK(version == kCheckpointFormatVersion, where, ": format_version ", version, ", this build reads version ",
           kCheckpointFormatVersion);
  const std::int64_t step = integer("step", 0);
  const std::int64_t groups = integer("param_groups", 1);
  const std::string& signature = text("signature");
  const std::string& fingerprint = text("config_fingerprint");
  if (!fingerprint.empty() && !config_fingerprint.empty() && fingerprint != config_fingerprint)
    throw core::ConfigError(core::cat(where, " was written by another config (fingerprint ", fingerprint,
                                      ", this config's is ", config_fingerprint,
                                      "): use another --out or remove the checkpoint to start over"));

  // Every tensor against the model and the optimizer, in the model's order; the first mismatch is named.
  auto file = parse_safetensors(bytes, where);
  const auto take = [&](const std::string& key, const torch::Tensor& like) {
    const auto it = file.find(key);
    XL_CHECK(it != file.end(), where, ": tensor '", key, "' is missing (a checkpoint of another model?)");
    const torch::Tensor t = it->second;
    XL_CHECK(t.sizes() == like.sizes(), where, ": tensor '", key, "' has shape ", shape_text(t.sizes()),
             ", the model's is ", shape_text(like.sizes()), " (a checkpoint of another model?)");
    XL_CHECK(t.scalar_type() == like.scalar_type(), where, ": tensor '", key, "' has dtype ", t.scalar_type(),
             ", the model's is ", like.scalar_type());
    file.erase(it);
    return t;
  };
  std::vector<std::pair<torch::Tensor, torch::Tensor>> model_copies;  // (target, value)
  for (const auto& p : model.named_parameters(true))
    model_copies.emplace_back(p.value(), take("model." + p.key(), p.value()));
  for (const auto& b : model.named_buffers(true))
    model_copies.emplace_back(b.value(), take("model." + b.key(), b.value()));
  XL_CHECK(signature == model_signature(model), where,
           ": __metadata__.signature does not match its tensors' model (a corrupted file)");
  XL_CHECK(groups == static_cast<std::int64_t>(optimizer.param_groups().size()), where, ": ", groups,
           " parameter groups, the optimizer has ", optimizer.param_groups().size(), " (train.param_groups changed?)");
  struct Restored {
    torch::Tensor param;
    std::int64_t step;
    torch::Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
  };
  std::vector<Restored> states;
  for (const auto& p : optimized_params(model, optimizer)) {
    const std::string key = "optim." + p.name + ".";
    if (!file.count(key + "step") && !file.count(key + "exp_avg") && !file.count(key + "exp_avg_sq") &&
        !file.count(key + "max_exp_avg_sq"))
      continue;  // no step taken for this parameter yet
    const torch::Tensor count = take(key + "step", torch::zeros({}, torch::kLong));
    Restored r{
        p.param, count.item<std::int64_t>(), take(key + "exp_avg", p.param), take(key + "exp_avg_sq", p.param), {}};
    XL_CHECK(r.step >= 1, where, ": tensor '", key, "step' = ", r.step, ", expected >= 1");
    if (p.amsgrad) r.max_exp_avg_sq = take(key + "max_exp_avg_sq", p.param);
    states.push_back(std::move(r));
  }
  const torch::Tensor rng = take("rng_cpu", cpu_generator_state());
  try {  // libtorch checks the state's fields (mt19937's position) only when it is set: on a generator of its own
    at::make_generator<at::CPUGeneratorImpl>().set_state(rng);
  } catch (const c10::Error& e) {
    throw core::InputError(core::cat(where, ": tensor 'rng_cpu' is not a CPU generator state (",
                                     std::string(e.what_without_backtrace()).substr(0, 200), ")"));
  }
  XL_CHECK(file.empty(), where, ": tensor '", file.begin()->first, "' is not one of this model or optimizer");

  // Everything checked: restore.
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : model_copies) target.copy_(value);
  auto& state = optimizer.state();
  state.clear();
  for (auto& r : states) {
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    const auto on = [&](const torch::Tensor& t) { return t.to(r.param.device()); };
    s->step(r.step);
    s->exp_avg(on(r.exp_avg));
    s->exp_avg_sq(on(r.exp_avg_sq));
    if (r.max_exp_avg_sq.defined()) s->max_exp_avg_sq(on(r.max_exp_avg_sq));
    state[r.param.unsafeGetTensorImpl()] = std::move(s);
  }
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(rng);
  return step;
}

}  // namespace xraylift::train
