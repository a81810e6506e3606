#include "xraylift/data/phantom.hpp"

namespace xraylift::data {

PhantomSpec phantom_spec_from_config(const core::Config& cfg, PhantomSpec s) {
  s.seed = cfg.get<unsigned long>("seed", s.seed);
  const auto dims = cfg.get<std::vector<int>>("dims", {s.dims.x(), s.dims.y(), s.dims.z()});
  if (dims.size() != 3)
    throw core::ConfigError(core::cat("config key '", cfg.full_key("dims"), "' needs 3 integers, got ", dims.size()));
  s.dims = Eigen::Vector3i(dims[0], dims[1], dims[2]);
  const auto sp = cfg.get<std::vector<double>>("spacing_mm", {s.spacing_mm.x(), s.spacing_mm.y(), s.spacing_mm.z()});
  if (sp.size() != 3)
    throw core::ConfigError(
        core::cat("config key '", cfg.full_key("spacing_mm"), "' needs 3 numbers, got ", sp.size()));
  s.spacing_mm = Eigen::Vector3d(sp[0], sp[1], sp[2]);
  s.nodules = cfg.get<int>("nodules", s.nodules);
  s.nodule_min_diameter_mm = cfg.get<double>("nodule_min_diameter_mm", s.nodule_min_diameter_mm);
  s.nodule_max_diameter_mm = cfg.get<double>("nodule_max_diameter_mm", s.nodule_max_diameter_mm);
  s.noise_hu = cfg.get<double>("noise_hu", s.noise_hu);
  s.vessels = cfg.get<bool>("vessels", s.vessels);
  s.anatomy = parse_phantom_anatomy(cfg.get<std::string>("anatomy", to_string(s.anatomy)),
                                    core::cat("config key '", cfg.full_key("anatomy"), "'"));
  s.chest_version = cfg.get<int>("chest_version", s.chest_version);
  s.vessel_terminal_radius_mm = cfg.get<double>("vessel_terminal_radius_mm", s.vessel_terminal_radius_mm);
  s.contrast_probability = cfg.get<double>("contrast_probability", s.contrast_probability);
  s.dense_vein_probability = cfg.get<double>("dense_vein_probability", s.dense_vein_probability);
  s.validate();
  return s;
}

}  // namespace xraylift::data
