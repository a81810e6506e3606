#pragma once
// Shared fixtures of the drr tests: small rigs and analytic volumes, and an independent ray/box chord.
#include <Eigen/Core>
#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>
#include <limits>

#include "xraylift/core/rig.hpp"
#include "xraylift/core/volume.hpp"
#include "xraylift/data/phantom.hpp"

namespace xraylift::drr::fixture {

// The seed ring geometry with a small detector that still covers a 200 mm field at the isocentre.
inline core::Rig small_ring(int pixels = 64, double sad = 300, double sdd = 600, int views = 10) {
  core::RingSpec s;
  s.views = views;
  s.sad_mm = sad;
  s.sdd_mm = sdd;
  s.detector.width = s.detector.height = pixels;
  s.detector.pixel_size_mm = 2.0 * 200.0 * (sdd / sad) / 2.0 / pixels;  // 200 mm at the isocentre
  return core::Rig::ring(s);
}

// The default ring (10 views, the default detector's field of view) at `pixels` x `pixels`.
inline core::Rig default_ring(int pixels) {
  core::RingSpec s;
  s.detector.width = s.detector.height = pixels;
  s.detector.pixel_size_mm = 0.78125 * 1024.0 / pixels;
  return core::Rig::ring(s);
}

// 1 where a phantom's labels are either lung (data/phantom.hpp), else 0.
inline core::VolumeU8 lung_mask(const core::VolumeU8& labels) {
  core::VolumeU8 lungs(labels.geometry(), 0);
  for (std::size_t p = 0; p < lungs.values().size(); ++p)
    lungs.values()[p] = labels.values()[p] == data::kLabelRightLung || labels.values()[p] == data::kLabelLeftLung;
  return lungs;
}

// Oblique poses: sources off every axis, looking at points near (not at) the centre.
inline core::Rig oblique_rig(int pixels = 48) {
  std::vector<core::PoseSpec> poses;
  const Eigen::Vector3d sources[] = {{210, -170, 90}, {-150, 40, -260}, {20, 280, 130}, {-240, -120, -60}};
  const Eigen::Vector3d targets[] = {{5, 3, -2}, {-8, 2, 6}, {0, -6, 4}, {7, 7, 7}};
  for (int i = 0; i < 4; ++i) {
    core::PoseSpec p;
    p.name = "oblique" + std::to_string(i);
    p.source_mm = sources[i];
    p.target_mm = targets[i];
    p.up = Eigen::Vector3d(0.1, 0.2, 1.0).normalized();
    p.sdd_mm = 600;
    p.detector.width = p.detector.height = pixels;
    p.detector.pixel_size_mm = 0.78125 * 1024 / pixels * 0.6;
    poses.push_back(p);
  }
  return core::Rig::from_poses(poses);
}

inline core::VolumeF uniform_volume(const Eigen::Vector3i& dims, const Eigen::Vector3d& spacing, float value) {
  return core::VolumeF(core::VolumeGeometry::centered(dims, spacing), value);
}

// Length of the segment of the ray (origin o, unit direction d, a >= 0) inside the box [lo, hi]; independent of
// ray_math.hpp (Eigen, per-axis interval intersection).
inline double chord_through_box(const Eigen::Vector3d& o, const Eigen::Vector3d& d, const Eigen::Vector3d& lo,
                                const Eigen::Vector3d& hi) {
  double t0 = 0, t1 = std::numeric_limits<double>::infinity();
  for (int a = 0; a < 3; ++a) {
    if (std::abs(d(a)) < 1e-300) {
      if (o(a) < lo(a) || o(a) > hi(a)) return 0;
      continue;
    }
    const double ta = (lo(a) - o(a)) / d(a), tb = (hi(a) - o(a)) / d(a);
    t0 = std::max(t0, std::min(ta, tb));
    t1 = std::min(t1, std::max(ta, tb));
  }
  return t1 > t0 ? t1 - t0 : 0.0;
}

inline double chord_through_sphere(const Eigen::Vector3d& o, const Eigen::Vector3d& d, const Eigen::Vector3d& c,
                                   double r) {
  const Eigen::Vector3d oc = o - c;
  const double b = oc.dot(d);
  const double disc = b * b - (oc.squaredNorm() - r * r);
  return disc > 0 ? 2.0 * std::sqrt(disc) : 0.0;
}

}  // namespace xraylift::drr::fixture
