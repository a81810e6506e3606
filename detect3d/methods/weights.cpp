// Weights of a 3D method: its module's tensors by name, the rig it was trained on and the method's name
// (docs/detect3d.md "Weights").
#include <algorithm>

#include "xraylift/core/error.hpp"
#include "xraylift/detect2d/weights.hpp"
#include "xraylift/detect3d/job.hpp"

namespace xraylift::detect3d {

namespace {

const char* const kMethodKey = "xraylift.method";

bool starts_with_any(const std::string& name, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return name.rfind(p, 0) == 0; });
}

core::TrainedRig rig_from_state(std::map<std::string, torch::Tensor>& state, const std::string& where) {
  core::TrainedRig rig;
  if (state.count("rig.sources") && state.count("rig.intrinsics")) {
    const auto s = state["rig.sources"].to(torch::kDouble), k = state["rig.intrinsics"].to(torch::kDouble);
    if (s.dim() != 2 || s.size(1) != 3 || k.dim() != 2 || k.size(1) != 6 || k.size(0) != s.size(0))
      throw core::InputError(core::cat(where, ": rig.sources / rig.intrinsics have shapes ", s.sizes(), " / ",
                                       k.sizes(), ", expected [V, 3] / [V, 6]"));
    const auto sa = s.accessor<double, 2>(), ka = k.accessor<double, 2>();
    for (int64_t v = 0; v < s.size(0); ++v) {
      rig.sources.emplace_back(sa[v][0], sa[v][1], sa[v][2]);
      core::Intrinsics in;
      in.fx = ka[v][0], in.fy = ka[v][1], in.cx = ka[v][2], in.cy = ka[v][3];
      in.width = int(ka[v][4]), in.height = int(ka[v][5]);
      rig.intrinsics.push_back(in);
    }
  }
  state.erase("rig.sources");
  state.erase("rig.intrinsics");
  return rig;
}

}  // namespace

void save_method_weights(const std::filesystem::path& path, const Method& method, const core::TrainedRig& rig) {
  std::map<std::string, torch::Tensor> state;
  const auto module = method.module();
  for (const auto& p : module->named_parameters(true)) state[p.key()] = p.value().detach().to(torch::kCPU);
  for (const auto& b : module->named_buffers(true)) state[b.key()] = b.value().detach().to(torch::kCPU);
  if (!rig.empty()) {
    const auto V = static_cast<int64_t>(rig.sources.size());
    auto s = torch::zeros({V, 3}, torch::kDouble), k = torch::zeros({V, 6}, torch::kDouble);
    auto sa = s.accessor<double, 2>(), ka = k.accessor<double, 2>();
    for (int64_t v = 0; v < V; ++v) {
      for (int i = 0; i < 3; ++i) sa[v][i] = rig.sources[v][i];
      const auto& in = rig.intrinsics[v];
      ka[v][0] = in.fx, ka[v][1] = in.fy, ka[v][2] = in.cx, ka[v][3] = in.cy, ka[v][4] = in.width;
      ka[v][5] = in.height;
    }
    state["rig.sources"] = s;
    state["rig.intrinsics"] = k;
  }
  detect2d::write_safetensors(path, state, {{kMethodKey, method.name()}});
}

core::TrainedRig load_method_weights(const std::filesystem::path& path, Method& method, WeightsUse use) {
  if (!std::filesystem::exists(path))
    throw core::InputError(core::cat("weights file '", path.string(), "' does not exist"));
  const auto meta = detect2d::read_weights_metadata(path);
  const auto recorded = meta.count(kMethodKey) ? meta.at(kMethodKey) : std::string();
  const auto own = method.own_prefixes();
  if (!own.empty() && !recorded.empty() && recorded != method.name() && use == WeightsUse::kPredict)
    throw core::InputError(core::cat(path.string(), ": weights of method '", recorded, "', not '", method.name(),
                                     "' (give the weights trained for ", method.name(), ")"));
  auto state = detect2d::read_state_dict(path);
  core::TrainedRig rig = rig_from_state(state, path.string());
  if (use == WeightsUse::kPredict && !own.empty() &&
      std::none_of(state.begin(), state.end(), [&](const auto& e) { return starts_with_any(e.first, own); }))
    throw NoWeightsForMethod(
        core::cat(path.string(), ": holds no weights of method '", method.name(),
                  "' (no tensor of its own modules); train it with detect3d.method: ", method.name()));
  const auto borrowed = method.borrowed_prefixes();
  for (const auto& prefix : borrowed)
    if (std::none_of(state.begin(), state.end(), [&](const auto& e) { return e.first.rfind(prefix, 0) == 0; }))
      throw NoWeightsForMethod(core::cat(path.string(), ": holds none of the '", prefix, "' tensors method '",
                                         method.name(), "' runs on (another method's trained model; ",
                                         "docs/detect3d.md \"Proposal sources\" says how the file is made)"));
  // Another method's head in the file: the 2D detector is what serves a method with no parameters of its own, and
  // what initializes training of another method.
  const bool foreign_head = !recorded.empty() && recorded != method.name();
  std::map<std::string, torch::Tensor> known;
  const auto module = method.module();
  std::map<std::string, bool> names;
  for (const auto& p : module->named_parameters(true)) names[p.key()] = true;
  for (const auto& b : module->named_buffers(true)) names[b.key()] = true;
  std::vector<std::string> unexpected;
  for (auto& [name, tensor] : state) {
    if (names.count(name)) {
      known[name] = tensor;
    } else if (!(own.empty() || foreign_head || use == WeightsUse::kInitialize)) {
      unexpected.push_back(name);
    }
  }
  if (!unexpected.empty())
    throw core::InputError(core::cat(path.string(), ": weights of another architecture: unexpected tensor '",
                                     unexpected.front(), "' (", unexpected.size(), " unexpected)"));
  const auto report = detect2d::load_state_dict(*module, known);
  if (!report.mismatched.empty())
    throw core::InputError(core::cat(path.string(), ": weights of another architecture: ", report.mismatched.front(),
                                     " (", report.mismatched.size(), " tensors differ in shape)"));
  std::vector<std::string> missing;
  for (const auto& m : report.missing)
    if (use == WeightsUse::kPredict || !starts_with_any(m, own)) missing.push_back(m);
  if (!missing.empty())
    throw core::InputError(core::cat(path.string(), ": weights of another architecture: '", missing.front(),
                                     "' is missing (", missing.size(), " tensors missing)"));
  return rig;
}

}  // namespace xraylift::detect3d
