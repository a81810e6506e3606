#include "xraylift/core/trained_rig.hpp"

#include <cmath>

#include "xraylift/core/error.hpp"

namespace xraylift::core {

TrainedRig trained_rig_of(const std::vector<Camera>& cameras) {
  TrainedRig r;
  for (const auto& c : cameras) {
    r.sources.push_back(c.source());
    r.intrinsics.push_back(c.intrinsics());
  }
  return r;
}

void check_rig(const TrainedRig& rig, const std::vector<Camera>& cameras, const std::string& origin,
               double tolerance_mm, const std::string& reference) {
  if (rig.empty()) return;
  if (rig.sources.size() != cameras.size())
    throw InputError(cat(origin, ": ", reference, " ", rig.sources.size(), " views, the input has ", cameras.size(),
                         " (views of another rig)"));
  for (std::size_t v = 0; v < cameras.size(); ++v) {
    const auto& k = rig.intrinsics[v];
    const auto& c = cameras[v];
    if (k.width != c.width() || k.height != c.height())
      throw InputError(cat(origin, ": view ", v, " ('", c.name(), "') is ", c.width(), " x ", c.height(), " px; ",
                           reference, " ", k.width, " x ", k.height, " px"));
    if (std::abs(c.intrinsics().fx / k.fx - 1) > 0.005 || std::abs(c.intrinsics().fy / k.fy - 1) > 0.005)
      throw InputError(cat(origin, ": view ", v, " ('", c.name(), "') has focal length ", c.intrinsics().fx, " px; ",
                           reference, " ", k.fx, " px (another rig)"));
    const double d = (c.source() - rig.sources[v]).norm();
    if (d > tolerance_mm)
      throw InputError(cat(origin, ": view ", v, " ('", c.name(), "') has its source ", d, " mm away from the source ",
                           reference, " (tolerance ", tolerance_mm, " mm; another rig)"));
  }
}

void check_training_rig(const std::vector<std::vector<Camera>>& case_cameras, const std::vector<std::string>& case_ids,
                        const TrainedRig& configured, const std::string& configured_origin) {
  XL_CHECK(case_cameras.size() == case_ids.size(), "check_training_rig: ", case_cameras.size(), " camera sets for ",
           case_ids.size(), " case ids");
  if (case_cameras.empty()) return;
  const TrainedRig first = trained_rig_of(case_cameras.front());
  for (std::size_t i = 0; i < case_cameras.size(); ++i) {
    const std::string origin = cat("train: case '", case_ids[i], "'");
    check_rig(first, case_cameras[i], origin, 1.0, "the first case has");
    check_rig(configured, case_cameras[i], origin, 1.0, cat("the config's rig (", configured_origin, ") has"));
  }
}

}  // namespace xraylift::core
