// The binary-morphology half of the anatomy statistics (data/anatomy_stats.hpp): exact distance transform,
// topology-preserving thinning, 26-connected components and centreline measurements.
#include <Eigen/Eigenvalues>
#include <algorithm>

#include <array>
#include <cmath>
#include <limits>

#include "xraylift/core/error.hpp"
#include "xraylift/core/parallel.hpp"
#include "xraylift/data/anatomy_stats.hpp"

namespace xraylift::data {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr std::uint8_t kRemoved = 2;  // thinning: removed in the current pass

// 1D squared distance transform of f (0 = outside, inf = inside) with sample step `step` mm; samples just before
// the first and after the last one are outside. Lower envelope of parabolas (Felzenszwalb & Huttenlocher 2012).
void distance_1d(const float* f, int n, double step, float* d, std::vector<int>& v, std::vector<double>& z) {
  // Positions in mm of the candidate parabolas' apices; the two virtual outside samples sit at -1 and n.
  v.assign(n + 2, 0);
  z.assign(n + 3, 0);
  auto value = [&](int q) { return (q < 0 || q >= n) ? 0.0 : double(f[q]); };
  int k = 0;
  v[0] = -1;
  z[0] = -std::numeric_limits<double>::infinity();
  z[1] = std::numeric_limits<double>::infinity();
  for (int q = 0; q <= n; ++q) {
    const double fq = value(q);
    if (std::isinf(fq)) continue;
    const double pq = q * step;
    while (true) {
      const double pv = v[k] * step;
      const double s = ((fq + pq * pq) - (value(v[k]) + pv * pv)) / (2 * (pq - pv));
      if (s <= z[k] && k > 0) {
        --k;
        continue;
      }
      ++k;
      v[k] = q;
      z[k] = s;
      z[k + 1] = std::numeric_limits<double>::infinity();
      break;
    }
  }
  k = 0;
  for (int p = 0; p < n; ++p) {
    const double pp = p * step;
    while (z[k + 1] < pp) ++k;
    const double dp = pp - v[k] * step;
    d[p] = static_cast<float>(dp * dp + value(v[k]));
  }
}

// Squared distances along one axis of a volume stored x fastest, lines through core::parallel_for.
void distance_axis(std::vector<float>& vol, const Eigen::Vector3i& n, int axis, double step, int threads) {
  const std::int64_t stride[3] = {1, n.x(), std::int64_t(n.x()) * n.y()};
  const int len = n[axis];
  const int a1 = axis == 0 ? 1 : 0, a2 = axis == 2 ? 1 : 2;
  const std::int64_t lines = std::int64_t(n[a1]) * n[a2];
  core::parallel_for_chunks(
      0, lines, 64,
      [&](std::int64_t b, std::int64_t e) {
        std::vector<float> f(len), d(len);
        std::vector<int> v;
        std::vector<double> z;
        for (std::int64_t line = b; line < e; ++line) {
          const std::int64_t base = (line % n[a1]) * stride[a1] + (line / n[a1]) * stride[a2];
          for (int t = 0; t < len; ++t) f[t] = vol[base + t * stride[axis]];
          distance_1d(f.data(), len, step, d.data(), v, z);
          for (int t = 0; t < len; ++t) vol[base + t * stride[axis]] = d[t];
        }
      },
      threads);
}

// The 3 x 3 x 3 neighbourhood, index (dz + 1) * 9 + (dy + 1) * 3 + (dx + 1); 13 is the centre.
using Neighbourhood = std::array<std::uint8_t, 27>;
constexpr int idx27(int dx, int dy, int dz) { return (dz + 1) * 9 + (dy + 1) * 3 + (dx + 1); }

// Change of the Euler characteristic (26-connected foreground: voxels as closed unit cubes) when the centre voxel is
// removed: every vertex, edge and face of its cube that no other foreground voxel keeps disappears, with the cube.
int euler_change(const Neighbourhood& nb) {
  int change = -1;  // the cube itself (dimension 3)
  for (int sx = -1; sx <= 1; sx += 2)
    for (int sy = -1; sy <= 1; sy += 2)
      for (int sz = -1; sz <= 1; sz += 2) {
        bool kept = false;  // vertex (sx, sy, sz)/2: the 7 other voxels around it
        for (int a = 0; a <= 1 && !kept; ++a)
          for (int b = 0; b <= 1 && !kept; ++b)
            for (int c = 0; c <= 1 && !kept; ++c)
              if (a || b || c) kept = nb[idx27(a * sx, b * sy, c * sz)];
        change += kept ? 0 : 1;
      }
  for (int axis = 0; axis < 3; ++axis)
    for (int s1 = -1; s1 <= 1; s1 += 2)
      for (int s2 = -1; s2 <= 1; s2 += 2) {
        bool kept = false;  // the edge along `axis` at the other two axes' signs s1, s2: 3 other voxels
        for (int b = 0; b <= 1 && !kept; ++b)
          for (int c = 0; c <= 1 && !kept; ++c) {
            if (!b && !c) continue;
            int o[3] = {0, 0, 0};
            o[(axis + 1) % 3] = b * s1;
            o[(axis + 2) % 3] = c * s2;
            kept = nb[idx27(o[0], o[1], o[2])];
          }
        change -= kept ? 0 : 1;
      }
  for (int axis = 0; axis < 3; ++axis)
    for (int s = -1; s <= 1; s += 2) {
      int o[3] = {0, 0, 0};
      o[axis] = s;
      change += nb[idx27(o[0], o[1], o[2])] ? 0 : 1;
    }
  return change;
}

// For each of the 26 neighbour positions, the neighbour positions 26-adjacent to it.
const std::vector<std::vector<int>>& neighbour_adjacency() {
  static const std::vector<std::vector<int>> adj = [] {
    std::vector<std::vector<int>> a(27);
    for (int p = 0; p < 27; ++p)
      for (int q = 0; q < 27; ++q) {
        if (p == q || p == 13 || q == 13) continue;
        const int dx = p % 3 - q % 3, dy = (p / 3) % 3 - (q / 3) % 3, dz = p / 9 - q / 9;
        if (std::abs(dx) <= 1 && std::abs(dy) <= 1 && std::abs(dz) <= 1) a[p].push_back(q);
      }
    return a;
  }();
  return adj;
}

int foreground_components(const Neighbourhood& nb) {
  const auto& adj = neighbour_adjacency();
  std::array<bool, 27> seen{};
  int comps = 0;
  std::array<int, 27> stack;
  for (int s = 0; s < 27; ++s) {
    if (s == 13 || !nb[s] || seen[s]) continue;
    ++comps;
    int top = 0;
    stack[top++] = s;
    seen[s] = true;
    while (top) {
      const int p = stack[--top];
      for (int q : adj[p])
        if (nb[q] && !seen[q]) seen[q] = true, stack[top++] = q;
    }
  }
  return comps;
}

int foreground_neighbours(const Neighbourhood& nb) {
  int c = 0;
  for (int i = 0; i < 27; ++i) c += i != 13 && nb[i];
  return c;
}

// Removing a border voxel keeps the topology when the rest of its neighbourhood is one 26-component and the Euler
// characteristic does not change (Lee et al. 1994; a border voxel cannot open a cavity).
bool simple_point(const Neighbourhood& nb) { return foreground_components(nb) == 1 && euler_change(nb) == 0; }

struct Padded {
  Eigen::Vector3i n;  // padded dims (one zero voxel on every side)
  std::vector<std::uint8_t> v;
  std::array<std::int64_t, 27> offset;
  std::int64_t at(int i, int j, int k) const {
    return i + 1 + std::int64_t(n.x()) * (j + 1 + std::int64_t(n.y()) * (k + 1));
  }
  void gather(std::int64_t p, Neighbourhood& nb) const {
    for (int t = 0; t < 27; ++t) nb[t] = v[p + offset[t]] == 1;
  }
};

Padded pad(const core::VolumeU8& mask) {
  Padded P;
  const Eigen::Vector3i d = mask.dims();
  P.n = d.array() + 2;
  P.v.assign(std::size_t(P.n.x()) * P.n.y() * P.n.z(), 0);
  for (int k = 0; k < d.z(); ++k)
    for (int j = 0; j < d.y(); ++j)
      for (int i = 0; i < d.x(); ++i) P.v[P.at(i, j, k)] = mask.at(i, j, k) != 0;
  for (int t = 0; t < 27; ++t)
    P.offset[t] = (t % 3 - 1) + std::int64_t(P.n.x()) * (((t / 3) % 3 - 1) + std::int64_t(P.n.y()) * (t / 9 - 1));
  return P;
}

}  // namespace

core::VolumeF distance_to_outside_mm(const core::VolumeU8& mask, bool in_plane, int threads) {
  mask.geometry().validate("distance_to_outside_mm: mask");
  std::vector<float> d(mask.values().size());
  for (std::size_t p = 0; p < d.size(); ++p) d[p] = mask.values()[p] ? kInf : 0.0f;
  for (int axis = 0; axis < (in_plane ? 2 : 3); ++axis)
    distance_axis(d, mask.dims(), axis, mask.spacing()[axis], threads);
  core::VolumeF out(mask.geometry(), 0.0f);
  for (std::size_t p = 0; p < d.size(); ++p) out.values()[p] = std::sqrt(d[p]);
  return out;
}

core::VolumeU8 skeletonize(const core::VolumeU8& mask, int threads) {
  mask.geometry().validate("skeletonize: mask");
  Padded P = pad(mask);
  std::vector<std::int64_t> points;
  for (std::int64_t p = 0; p < std::int64_t(P.v.size()); ++p)
    if (P.v[p]) points.push_back(p);
  // The six border directions in ITK's order: -y, +y, +x, -x, +z, -z.
  const std::int64_t sy = P.n.x(), sz = std::int64_t(P.n.x()) * P.n.y();
  const std::int64_t directions[6] = {-sy, sy, 1, -1, sz, -sz};
  int unchanged = 0;
  while (unchanged < 6) {
    unchanged = 0;
    for (std::int64_t dir : directions) {
      // Candidates in parallel (read only), in chunk order so that the result does not depend on the thread count.
      const std::int64_t chunk = 4096;
      const std::int64_t chunks = (std::int64_t(points.size()) + chunk - 1) / chunk;
      std::vector<std::vector<std::int64_t>> found(chunks);
      core::parallel_for(
          chunks,
          [&](std::int64_t c) {
            Neighbourhood nb;
            const std::int64_t e = std::min<std::int64_t>(points.size(), (c + 1) * chunk);
            for (std::int64_t t = c * chunk; t < e; ++t) {
              const std::int64_t p = points[t];
              if (P.v[p + dir] == 1) continue;  // not a border voxel in this direction
              P.gather(p, nb);
              if (foreground_neighbours(nb) <= 1) continue;  // a curve end (or an isolated voxel) stays
              if (simple_point(nb)) found[c].push_back(p);
            }
          },
          threads);
      // Sequential re-check: each removal is checked against the current state, so each keeps the topology. A
      // candidate next to a voxel removed in this pass waits for the next pass: otherwise the end of a ribbon one
      // voxel thick in this direction (never a curve end) would be eaten away in scan order in a single pass.
      bool changed = false;
      Neighbourhood nb;
      for (const auto& list : found)
        for (std::int64_t p : list) {
          bool next_to_removed = false;
          for (int t : {4, 10, 12, 14, 16, 22}) next_to_removed |= P.v[p + P.offset[t]] == kRemoved;
          if (next_to_removed) continue;
          P.gather(p, nb);
          if (foreground_neighbours(nb) <= 1 || !simple_point(nb)) continue;
          P.v[p] = kRemoved;
          changed = true;
        }
      for (const auto& list : found)
        for (std::int64_t p : list)
          if (P.v[p] == kRemoved) P.v[p] = 0;
      if (!changed) {
        ++unchanged;
        continue;
      }
      points.erase(std::remove_if(points.begin(), points.end(), [&](std::int64_t p) { return !P.v[p]; }), points.end());
    }
  }
  core::VolumeU8 out(mask.geometry(), 0);
  const Eigen::Vector3i d = mask.dims();
  for (int k = 0; k < d.z(); ++k)
    for (int j = 0; j < d.y(); ++j)
      for (int i = 0; i < d.x(); ++i) out.at(i, j, k) = P.v[P.at(i, j, k)];
  return out;
}

std::vector<std::int64_t> component_sizes_26(const core::VolumeU8& mask) {
  Padded P = pad(mask);
  std::vector<std::int64_t> sizes, stack;
  for (std::int64_t p0 = 0; p0 < std::int64_t(P.v.size()); ++p0) {
    if (P.v[p0] != 1) continue;
    std::int64_t size = 0;
    P.v[p0] = 2;  // visited
    stack.push_back(p0);
    while (!stack.empty()) {
      const std::int64_t p = stack.back();
      stack.pop_back();
      ++size;
      for (int t = 0; t < 27; ++t) {
        const std::int64_t q = p + P.offset[t];
        if (P.v[q] == 1) P.v[q] = 2, stack.push_back(q);
      }
    }
    sizes.push_back(size);
  }
  std::sort(sizes.rbegin(), sizes.rend());
  return sizes;
}

Centrelines measure_centrelines(core::VolumeU8& skeleton, const core::VolumeF& distance) {
  XL_CHECK(skeleton.dims() == distance.dims(), "measure_centrelines: skeleton dims ", skeleton.dims().transpose(),
           " differ from the distance transform's ", distance.dims().transpose());
  Padded P = pad(skeleton);
  const Eigen::Vector3d sp = skeleton.spacing();
  std::array<double, 27> step_mm;
  for (int t = 0; t < 27; ++t)
    step_mm[t] = Eigen::Vector3d((t % 3 - 1) * sp.x(), ((t / 3) % 3 - 1) * sp.y(), (t / 9 - 1) * sp.z()).norm();
  const Eigen::Vector3i d = skeleton.dims();
  auto unpad = [&](std::int64_t p) {
    const int i = int(p % P.n.x()) - 1, j = int((p / P.n.x()) % P.n.y()) - 1,
              k = int(p / (std::int64_t(P.n.x()) * P.n.y())) - 1;
    return Eigen::Vector3i(i, j, k);
  };
  auto radius_at = [&](std::int64_t p) {
    const Eigen::Vector3i q = unpad(p);
    return double(distance.at(q.x(), q.y(), q.z()));
  };
  auto neighbours = [&](std::int64_t p) {
    int c = 0;
    for (int t = 0; t < 27; ++t) c += t != 13 && P.v[p + P.offset[t]];
    return c;
  };
  std::vector<std::int64_t> points;
  for (std::int64_t p = 0; p < std::int64_t(P.v.size()); ++p)
    if (P.v[p]) points.push_back(p);

  // Spurs: an end branch that reaches a junction within 1.5 times the junction's radius (plus a voxel) is a bump of
  // the vessel wall or a corner of a flat end (those reach sqrt(2) r), not a vessel. Each round finds them on the
  // skeleton as it is and removes them together.
  Centrelines out;
  // Pruning a fork can leave its junction as the end of a new short spur: a few rounds, until none is left.
  for (int round = 0; round < 4; ++round) {
    std::vector<std::int64_t> remove;
    for (std::int64_t e : points) {
      if (neighbours(e) != 1) continue;
      std::vector<std::int64_t> path{e};
      double length = 0;
      std::int64_t prev = -1, cur = e;
      bool spur = false;
      while (true) {
        std::int64_t next = -1;
        int t_next = 0;
        for (int t = 0; t < 27; ++t) {
          const std::int64_t q = cur + P.offset[t];
          if (t != 13 && P.v[q] && q != prev) next = q, t_next = t;
        }
        if (next < 0) break;
        length += step_mm[t_next];
        if (neighbours(next) >= 3) {
          spur = length <= 1.5 * radius_at(next) + sp.maxCoeff();
          break;
        }
        if (neighbours(next) != 2) break;  // the other end of an isolated curve
        path.push_back(next);
        prev = cur;
        cur = next;
        if (path.size() > 64) break;  // long branches are vessels
      }
      if (spur) {
        remove.insert(remove.end(), path.begin(), path.end());
        ++out.spurs_pruned;
      }
    }
    if (remove.empty()) break;
    // Without its spurs a fork can leave a removable voxel (a triangle of neighbours): thin the rest again.
    for (std::int64_t p : remove) P.v[p] = 0;
    core::VolumeU8 pruned(skeleton.geometry(), 0);
    for (int k = 0; k < d.z(); ++k)
      for (int j = 0; j < d.y(); ++j)
        for (int i = 0; i < d.x(); ++i) pruned.at(i, j, k) = P.v[P.at(i, j, k)];
    P = pad(skeletonize(pruned));
    points.clear();
    for (std::int64_t p = 0; p < std::int64_t(P.v.size()); ++p)
      if (P.v[p]) points.push_back(p);
  }

  std::vector<std::uint8_t> junction(P.v.size(), 0);
  // Length per voxel: a digital curve advances one voxel per step along its dominant axis, so a voxel weighs
  // min_a spacing_a / |u_a| for the curve's local direction u (principal axis of the skeleton voxels within two
  // voxels). Summing the steps between neighbours instead would count a staircase's diagonal zigzag (sqrt 2 x).
  const std::int64_t sy = P.n.x(), sz = std::int64_t(P.n.x()) * P.n.y();
  for (std::int64_t p : points) {
    Eigen::Vector3d mean = Eigen::Vector3d::Zero();
    Eigen::Matrix3d second = Eigen::Matrix3d::Zero();
    int count = 0;
    for (int dz = -2; dz <= 2; ++dz)
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx) {
          const std::int64_t q = p + dx + dy * sy + dz * sz;
          if (q < 0 || q >= std::int64_t(P.v.size()) || !P.v[q]) continue;
          const Eigen::Vector3d x(dx * sp.x(), dy * sp.y(), dz * sp.z());
          mean += x, second += x * x.transpose(), ++count;
        }
    double w = 0;
    if (count >= 2) {
      mean /= count;
      const Eigen::Matrix3d cov = second / count - mean * mean.transpose();
      const Eigen::Vector3d u = Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d>(cov).eigenvectors().col(2);
      w = std::numeric_limits<double>::infinity();
      for (int a = 0; a < 3; ++a)
        if (std::abs(u[a]) > 1e-9) w = std::min(w, sp[a] / std::abs(u[a]));
    }
    out.radius_mm.push_back(radius_at(p));
    out.weight_mm.push_back(w);
    out.length_mm += w;
    if (neighbours(p) >= 3) junction[p] = 1;
  }
  std::vector<std::int64_t> stack;
  for (std::int64_t p0 : points) {
    if (junction[p0] != 1) continue;
    ++out.branch_points;
    junction[p0] = 2;
    stack.push_back(p0);
    while (!stack.empty()) {
      const std::int64_t p = stack.back();
      stack.pop_back();
      for (int t = 0; t < 27; ++t) {
        const std::int64_t q = p + P.offset[t];
        if (junction[q] == 1) junction[q] = 2, stack.push_back(q);
      }
    }
  }
  for (int k = 0; k < d.z(); ++k)
    for (int j = 0; j < d.y(); ++j)
      for (int i = 0; i < d.x(); ++i) skeleton.at(i, j, k) = P.v[P.at(i, j, k)];
  return out;
}

}  // namespace xraylift::data
