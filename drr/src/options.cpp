#include "xraylift/drr/options.hpp"

#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::drr {

const char* to_string(Integrator i) { return i == Integrator::kSiddon ? "siddon" : "trilinear"; }
const char* to_string(BoneModel b) { return b == BoneModel::kNone ? "none" : "linear"; }
const char* to_string(Device d) { return d == Device::kCpu ? "cpu" : "cuda"; }

Integrator parse_integrator(const std::string& name, const std::string& where) {
  if (name == "siddon") return Integrator::kSiddon;
  if (name == "trilinear") return Integrator::kTrilinear;
  throw core::ConfigError(core::cat(where, ": integrator '", name, "' is unknown; expected siddon or trilinear"));
}

Device parse_device(const std::string& name, const std::string& where) {
  if (name == "cpu") return Device::kCpu;
  if (name == "cuda") return Device::kCuda;
  throw core::ConfigError(core::cat(where, ": device '", name, "' is unknown; expected cpu or cuda"));
}

namespace {
BoneModel parse_bone(const std::string& name, const std::string& where) {
  if (name == "none" || name == "off") return BoneModel::kNone;
  if (name == "linear") return BoneModel::kLinear;
  throw core::ConfigError(core::cat(where, ": bone '", name, "' is unknown; expected none or linear"));
}

void check_positive(double value, const std::string& where, const char* field) {
  if (!std::isfinite(value) || value <= 0)
    throw core::ConfigError(core::cat(where, ": ", field, " = ", value, " must be a finite number > 0"));
}
}  // namespace

void RenderOptions::validate(const std::string& where) const {
  check_positive(step_voxels, where, "step_voxels");
  if (!std::isfinite(step_mm) || step_mm < 0 || step_mm > 50)
    throw core::ConfigError(core::cat(where, ": step_mm = ", step_mm, " must lie in [0, 50] (0: use step_voxels)"));
  check_positive(mu_water_per_mm, where, "mu_water_per_mm");
  check_positive(mu_bone_per_mm, where, "mu_bone_per_mm");
  if (!std::isfinite(bone_start_hu) || bone_start_hu < -1000 || bone_start_hu >= 1000)
    throw core::ConfigError(core::cat(where, ": bone_start_hu = ", bone_start_hu, " must lie in [-1000, 1000)"));
  if (step_voxels > 16)
    throw core::ConfigError(core::cat(where, ": step_voxels = ", step_voxels, " is too coarse; expected <= 16"));
  if (threads < 0) throw core::ConfigError(core::cat(where, ": threads = ", threads, " must be >= 0"));
}

RenderOptions RenderOptions::from_config(const core::Config& s) {
  RenderOptions o;
  const std::string where = s.full_key("");
  o.integrator = parse_integrator(s.get<std::string>("integrator", to_string(o.integrator)),
                                  core::cat("config key '", s.full_key("integrator"), "'"));
  o.step_voxels = s.get<double>("step_voxels", o.step_voxels);
  o.step_mm = s.get<double>("step_mm", o.step_mm);
  o.half_texture = s.get<bool>("half_texture", o.half_texture);
  o.mu_water_per_mm = s.get<double>("mu_water_per_mm", o.mu_water_per_mm);
  o.bone =
      parse_bone(s.get<std::string>("bone", to_string(o.bone)), core::cat("config key '", s.full_key("bone"), "'"));
  o.mu_bone_per_mm = s.get<double>("mu_bone_per_mm", o.mu_bone_per_mm);
  o.bone_start_hu = s.get<double>("bone_start_hu", o.bone_start_hu);
  o.mask = s.get<bool>("mask", o.mask);
  if (s.has("threads"))
    throw core::ConfigError(core::cat("config key '", s.full_key("threads"), "' (", s.origin("threads"),
                                      "): the thread count is the top-level key `threads` (or --threads) for every "
                                      "module; remove it from this section"));
  o.device = parse_device(s.get<std::string>("device", to_string(o.device)),
                          core::cat("config key '", s.full_key("device"), "'"));
  o.validate(core::cat("config section '", where, "'"));
  return o;
}

nlohmann::json RenderOptions::to_json() const {
  return {{"integrator", to_string(integrator)}, {"step_voxels", step_voxels},         {"step_mm", step_mm},
          {"half_texture", half_texture},        {"mu_water_per_mm", mu_water_per_mm}, {"bone", to_string(bone)},
          {"mu_bone_per_mm", mu_bone_per_mm},    {"bone_start_hu", bone_start_hu},     {"device", to_string(device)}};
}

AttenuationModel RenderOptions::attenuation() const {
  return AttenuationModel{static_cast<float>(mu_water_per_mm), static_cast<float>(mu_bone_per_mm),
                          static_cast<float>(bone_start_hu), bone == BoneModel::kLinear ? 1 : 0};
}

}  // namespace xraylift::drr
