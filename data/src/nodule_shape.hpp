#pragma once
// Nodule shapes shared by the phantom generator and insertion into real CT: value(p) <= 1 inside.
// Lobulated: the radius is modulated by low-order bumps; spiculated: thin tapering spikes from the surface.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "xraylift/data/phantom.hpp"

namespace xraylift::data::detail {

struct NoduleShape {
  Eigen::Vector3d c = Eigen::Vector3d::Zero();
  double r = 1;
  data::NoduleShape kind = data::NoduleShape::kSphere;
  std::vector<Eigen::Vector3d> axes;
  std::vector<double> amps, freq;
  double reach = 1;  // spikes end at reach * r

  double extent() const { return r * (kind == data::NoduleShape::kSpiculated ? reach + 0.1 : 1.35); }

  double value(const Eigen::Vector3d& p) const {
    const Eigen::Vector3d d = p - c;
    const double dist = d.norm();
    if (dist < 1e-9) return 0;
    const Eigen::Vector3d u = d / dist;
    double rr = r;
    if (kind == data::NoduleShape::kLobulated)
      for (std::size_t m = 0; m < axes.size(); ++m)
        rr += r * amps[m] * std::cos(freq[m] * std::acos(std::clamp(u.dot(axes[m]), -1.0, 1.0)));
    double f = dist / rr;
    if (kind == data::NoduleShape::kSpiculated) {
      for (const auto& ax : axes) {
        const double along = d.dot(ax);
        if (along < 0.6 * r || along > reach * r) continue;
        const double width = std::max(0.35, 0.16 * r * (1 - (along - 0.6 * r) / ((reach - 0.6) * r)));
        const double off = (d - along * ax).norm();
        if (off <= width) f = std::min(f, 0.99);
      }
    }
    return f;
  }
};

inline NoduleShape make_nodule_shape(const Eigen::Vector3d& c, double r, data::NoduleShape kind, std::mt19937_64& rng) {
  NoduleShape s;
  s.c = c;
  s.r = r;
  s.kind = kind;
  std::normal_distribution<double> n01;
  std::uniform_real_distribution<double> unit(0, 1);
  const int count =
      kind == data::NoduleShape::kLobulated ? 3 : (kind == data::NoduleShape::kSpiculated ? 6 + int(unit(rng) * 7) : 0);
  for (int m = 0; m < count; ++m) {
    s.axes.push_back(Eigen::Vector3d(n01(rng), n01(rng), n01(rng)).normalized());
    s.amps.push_back(0.08 + 0.1 * unit(rng));
    s.freq.push_back(2 + std::floor(3 * unit(rng)));
  }
  s.reach = kind == data::NoduleShape::kSpiculated ? 1.6 + 0.6 * unit(rng) : 1.0;
  return s;
}

}  // namespace xraylift::data::detail
