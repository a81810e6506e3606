#include "xraylift/detect3d/scene_range.hpp"

#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::detect3d {

void SceneRange::validate(const std::string& where) const {
  XL_CHECK(min_mm.allFinite() && max_mm.allFinite(), where, ": scene range is not finite");
  for (int a = 0; a < 3; ++a) {
    const double extent = max_mm[a] - min_mm[a];
    XL_CHECK(extent > 0, where, ": scene range axis ", a, " has min ", min_mm[a], " >= max ", max_mm[a]);
    XL_CHECK(extent >= 50.0, where, ": scene range axis ", a, " spans ", extent,
             " mm; expected 50..5000 mm (is it in metres? ranges are in millimetres)");
    XL_CHECK(extent <= 5000.0, where, ": scene range axis ", a, " spans ", extent, " mm; expected 50..5000 mm");
  }
}

Eigen::Vector3d SceneRange::normalize(const Eigen::Vector3d& p) const {
  return (p - min_mm).cwiseQuotient(max_mm - min_mm);
}

Eigen::Vector3d SceneRange::denormalize(const Eigen::Vector3d& u) const {
  return min_mm + u.cwiseProduct(max_mm - min_mm);
}

bool SceneRange::contains(const Eigen::Vector3d& p) const {
  return (p.array() >= min_mm.array()).all() && (p.array() <= max_mm.array()).all();
}

void SceneRange::check_keys(const core::Config& c) const {
  c.check_section_keys({"min_mm", "max_mm"});
  const std::string key = c.full_key("");
  try {
    validate(core::cat("config key '", key.substr(0, key.size() - 1), "' (from ", c.origin("min_mm"), ")"));
  } catch (const core::InputError& e) {  // a metre-scale or inverted box in a config is a configuration mistake
    throw core::ConfigError(e.what());
  }
}

SceneRange SceneRange::from_config(const core::Config& c) {
  SceneRange r;
  for (const char* key : {"min_mm", "max_mm"}) {
    Eigen::Vector3d& target = std::string(key) == "min_mm" ? r.min_mm : r.max_mm;
    if (!c.has(key)) continue;
    const auto v = c.get<std::vector<double>>(key, {});
    if (v.size() != 3)
      throw core::ConfigError(core::cat("config key '", c.full_key(key), "' (from ", c.origin(key),
                                        "): expected a list of 3 numbers (mm), got ", v.size()));
    target = Eigen::Vector3d(v[0], v[1], v[2]);
  }
  r.check_keys(c);
  return r;
}

}  // namespace xraylift::detect3d
