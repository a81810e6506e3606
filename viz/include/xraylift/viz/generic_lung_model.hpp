#pragma once
// A generic lung model for cases with X-rays only: a template lung model scaled uniformly so that its volume
// equals the patient's predicted total lung capacity, with its bounding box centred on the ring's isocentre.
//
// TLC reference equations: ERS/ECSC 1993 (Quanjer PH et al., "Lung volumes and forced ventilatory flows",
// Eur Respir J 1993; 6 Suppl 16: 5-40), adults 18-70 years, height H in metres, TLC in litres:
//     men:   TLC = 7.99 H - 7.08        women: TLC = 6.60 H - 5.79
// These equations have no age term; age is checked against their validity range and recorded only.
#include <string>

#include "xraylift/viz/lung_model.hpp"

namespace xraylift::viz {

enum class Sex { kMale, kFemale };
Sex parse_sex(const std::string& s);  // "male"/"m" or "female"/"f"; ConfigError otherwise

struct PatientSpec {
  Sex sex = Sex::kMale;
  double age_years = 40;
  double height_cm = 175;
};

// Predicted TLC in litres (ERS/ECSC 1993); InputError outside 18-90 years or 120-220 cm.
double predicted_tlc_litres(const PatientSpec& p);

// Scales `template_model` (any lung model, e.g. from a phantom's lungs) about its bounding-box centre to the
// predicted TLC, then moves that centre to `isocentre_mm` (the ring's isocentre, world origin by default).
LungModel generic_lung_model(const LungModel& template_model, const PatientSpec& patient,
                             const Eigen::Vector3d& isocentre_mm = Eigen::Vector3d::Zero());

// generic_lung_model's similarity: p -> to + scale (p - from).
struct GenericPlacement {
  double scale = 1;
  Eigen::Vector3d from = Eigen::Vector3d::Zero(), to = Eigen::Vector3d::Zero();
};
GenericPlacement generic_placement(const LungModel& template_model, const PatientSpec& patient,
                                   const Eigen::Vector3d& isocentre_mm = Eigen::Vector3d::Zero());
// A template's label volume moved by the placement (the generic model as a mask: its grid scaled and shifted, the
// labels untouched), so that the template is measured as the other lung models are (docs/viz.md).
core::VolumeU8 place_labels(const core::VolumeU8& labels, const GenericPlacement& placement);

}  // namespace xraylift::viz
