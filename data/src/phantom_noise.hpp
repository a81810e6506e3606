#pragma once
// Deterministic noise for phantoms: every value is a function of (seed, position), never of thread order.
#include <cmath>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace xraylift::data::detail {

inline std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Approximately standard normal from one hash (Irwin-Hall of four 16-bit uniforms, rescaled to unit variance).
inline float gaussian_from_hash(std::uint64_t h) {
  const float s = float(h & 0xffff) + float((h >> 16) & 0xffff) + float((h >> 32) & 0xffff) + float(h >> 48);
  return (s / 65535.0f - 2.0f) * 1.7320508f;
}

// Smooth value noise in [-1, 1] on a lattice of `cell_mm`, precomputed over a box and read trilinearly.
class LatticeNoise {
 public:
  LatticeNoise(std::uint64_t seed, const Eigen::Vector3d& lo_mm, const Eigen::Vector3d& hi_mm, double cell_mm)
      : lo_(lo_mm), cell_(cell_mm) {
    for (int a = 0; a < 3; ++a) n_[a] = static_cast<int>(std::ceil((hi_mm[a] - lo_mm[a]) / cell_mm)) + 2;
    values_.resize(std::size_t(n_[0]) * n_[1] * n_[2]);
    for (std::size_t i = 0; i < values_.size(); ++i)
      values_[i] = float(double(mix64(seed ^ (i * 0x2545F4914F6CDD1Dull)) >> 11) * 0x1.0p-53 * 2.0 - 1.0);
  }
  float operator()(const Eigen::Vector3d& p) const {
    double f[3];
    int i[3];
    for (int a = 0; a < 3; ++a) {
      const double t = std::clamp((p[a] - lo_[a]) / cell_, 0.0, double(n_[a] - 2) - 1e-9);
      i[a] = static_cast<int>(t);
      const double u = t - i[a];
      f[a] = u * u * (3 - 2 * u);  // smoothstep: no lattice-aligned creases
    }
    auto at = [&](int x, int y, int z) { return values_[(std::size_t(z) * n_[1] + y) * n_[0] + x]; };
    const double c00 = at(i[0], i[1], i[2]) * (1 - f[0]) + at(i[0] + 1, i[1], i[2]) * f[0];
    const double c10 = at(i[0], i[1] + 1, i[2]) * (1 - f[0]) + at(i[0] + 1, i[1] + 1, i[2]) * f[0];
    const double c01 = at(i[0], i[1], i[2] + 1) * (1 - f[0]) + at(i[0] + 1, i[1], i[2] + 1) * f[0];
    const double c11 = at(i[0], i[1] + 1, i[2] + 1) * (1 - f[0]) + at(i[0] + 1, i[1] + 1, i[2] + 1) * f[0];
    const double c0 = c00 * (1 - f[1]) + c10 * f[1];
    const double c1 = c01 * (1 - f[1]) + c11 * f[1];
    return static_cast<float>(c0 * (1 - f[2]) + c1 * f[2]);
  }

 private:
  Eigen::Vector3d lo_;
  double cell_;
  int n_[3];
  std::vector<float> values_;
};

}  // namespace xraylift::data::detail
