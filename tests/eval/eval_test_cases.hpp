#pragma once
// Small builders for 3D evaluation tests.
#include <string>
#include <vector>

#include "xraylift/eval/cases3d.hpp"

namespace xraylift::eval::testcases {

inline core::BoxRecord sphere(double x, double y, double z, double d, double score = 1.0, bool ignore = false) {
  core::BoxRecord r;
  r.box.center = Eigen::Vector3d(x, y, z);
  r.box.size = Eigen::Vector3d::Constant(d);
  r.score = score;
  r.ignore = ignore;
  return r;
}

inline core::BoxRecord moved(core::BoxRecord r, double dx, double dy, double dz, double score) {
  r.box.center += Eigen::Vector3d(dx, dy, dz);
  r.score = score;
  r.ignore = false;
  return r;
}

// Three scans with 8 mm nodules (two in the first).
inline std::vector<EvalCase> three_scans() {
  return {{"s1", {sphere(0, 0, 0, 8), sphere(50, 0, 0, 8)}, {}},
          {"s2", {sphere(-30, 20, 10, 8)}, {}},
          {"s3", {sphere(10, -40, 5, 8)}, {}}};
}

inline std::vector<EvalCase> predict_truths(std::vector<EvalCase> cases, double dx, double score) {
  for (auto& c : cases)
    for (const auto& t : c.truths) c.predictions.push_back(moved(t, dx, 0, 0, score));
  return cases;
}

}  // namespace xraylift::eval::testcases
