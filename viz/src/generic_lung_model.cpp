#include "xraylift/viz/generic_lung_model.hpp"

#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::viz {

Sex parse_sex(const std::string& s) {
  if (s == "male" || s == "m" || s == "M") return Sex::kMale;
  if (s == "female" || s == "f" || s == "F") return Sex::kFemale;
  throw core::ConfigError(core::cat("sex '", s, "': expected male or female"));
}

double predicted_tlc_litres(const PatientSpec& p) {
  XL_CHECK(std::isfinite(p.age_years) && p.age_years >= 18 && p.age_years <= 90, "patient age ", p.age_years,
           " years: the ERS/ECSC 1993 TLC equations are for adults (18-70, accepted up to 90)");
  XL_CHECK(std::isfinite(p.height_cm) && p.height_cm >= 120 && p.height_cm <= 220, "patient height ", p.height_cm,
           " cm: expected 120 .. 220");
  const double h = p.height_cm / 100.0;
  return p.sex == Sex::kMale ? 7.99 * h - 7.08 : 6.60 * h - 5.79;
}

GenericPlacement generic_placement(const LungModel& t, const PatientSpec& patient, const Eigen::Vector3d& iso) {
  XL_CHECK(!t.lungs.empty(), "generic lung model: empty template");
  double template_ml = 0;
  Bounds b;
  for (const auto& l : t.lungs) {
    template_ml += signed_volume(l.mesh) / 1000.0;
    const Bounds lb = bounds(l.mesh);
    b.add(lb.lo), b.add(lb.hi);
  }
  XL_CHECK(template_ml > 0, "generic lung model: template encloses no volume (", template_ml, " mL)");
  const double target_ml = 1000.0 * predicted_tlc_litres(patient);
  GenericPlacement g;
  g.scale = std::cbrt(target_ml / template_ml);
  g.from = (0.5 * (b.lo + b.hi)).cast<float>().cast<double>();
  g.to = iso;
  return g;
}

LungModel generic_lung_model(const LungModel& t, const PatientSpec& patient, const Eigen::Vector3d& iso) {
  const GenericPlacement g = generic_placement(t, patient, iso);
  const double k = g.scale;
  const Eigen::Vector3f c = g.from.cast<float>(), to = iso.cast<float>();
  LungModel out = t;
  for (auto& l : out.lungs) {
    for (auto& v : l.mesh.vertices) v = to + float(k) * (v - c);
    l.mesh_ml = signed_volume(l.mesh) / 1000.0;
    l.mask_ml *= k * k * k;
  }
  return out;
}

core::VolumeU8 place_labels(const core::VolumeU8& labels, const GenericPlacement& g) {
  XL_CHECK(!labels.empty() && labels.geometry().axis_aligned(), "place labels: expected an axis-aligned label volume");
  XL_CHECK(std::isfinite(g.scale) && g.scale > 0, "place labels: scale ", g.scale, ", expected > 0");
  core::VolumeU8 out = labels;
  out.geometry().spacing *= g.scale;
  out.geometry().origin = g.to + g.scale * (labels.geometry().origin - g.from);
  return out;
}

}  // namespace xraylift::viz
