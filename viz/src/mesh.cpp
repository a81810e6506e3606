#include "xraylift/viz/mesh.hpp"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>

#include "xraylift/core/error.hpp"

namespace xraylift::viz {
namespace {

// Closest point on triangle abc to p (Ericson, Real-Time Collision Detection, 5.1.5): its squared distance.
double point_triangle_d2(const Eigen::Vector3d& p, const Eigen::Vector3d& a, const Eigen::Vector3d& b,
                         const Eigen::Vector3d& c) {
  const Eigen::Vector3d ab = b - a, ac = c - a, ap = p - a;
  const double d1 = ab.dot(ap), d2 = ac.dot(ap);
  if (d1 <= 0 && d2 <= 0) return ap.squaredNorm();
  const Eigen::Vector3d bp = p - b;
  const double d3 = ab.dot(bp), d4 = ac.dot(bp);
  if (d3 >= 0 && d4 <= d3) return bp.squaredNorm();
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) return (p - (a + ab * (d1 / (d1 - d3)))).squaredNorm();
  const Eigen::Vector3d cp = p - c;
  const double d5 = ab.dot(cp), d6 = ac.dot(cp);
  if (d6 >= 0 && d5 <= d6) return cp.squaredNorm();
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) return (p - (a + ac * (d2 / (d2 - d6)))).squaredNorm();
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0)
    return (p - (b + (c - b) * ((d4 - d3) / ((d4 - d3) + (d5 - d6))))).squaredNorm();
  const double denom = 1.0 / (va + vb + vc);
  return (p - (a + ab * (vb * denom) + ac * (vc * denom))).squaredNorm();
}

// Triangles of a mesh bucketed in a uniform grid (compressed rows: cell -> triangles whose box overlaps it).
class TriangleGrid {
 public:
  TriangleGrid(const Mesh& m, const Bounds& region) : m_(m) {
    double edge = 0;
    for (const auto& t : m.triangles)
      edge += (m.vertices[t[0]] - m.vertices[t[1]]).norm() + (m.vertices[t[1]] - m.vertices[t[2]]).norm();
    h_ = std::max(1e-6, 2.0 * edge / std::max<std::size_t>(1, 2 * m.triangles.size()));
    lo_ = region.lo;
    const Eigen::Vector3d ext = region.hi - region.lo;
    for (int a = 0; a < 3; ++a) n_[a] = std::max(1, int(std::ceil(ext[a] / h_)) + 1);
    // Keep the grid at most ~4M cells.
    while (double(n_[0]) * n_[1] * n_[2] > 4e6) {
      h_ *= 1.5;
      for (int a = 0; a < 3; ++a) n_[a] = std::max(1, int(std::ceil(ext[a] / h_)) + 1);
    }
    start_.assign(std::size_t(n_[0]) * n_[1] * n_[2] + 1, 0);
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<std::uint32_t> fill;
      if (pass == 1) {
        for (std::size_t i = 1; i < start_.size(); ++i) start_[i] += start_[i - 1];
        items_.resize(start_.back());
        fill.assign(start_.begin(), start_.end() - 1);
      }
      for (std::size_t f = 0; f < m.triangles.size(); ++f) {
        Eigen::Vector3i a = Eigen::Vector3i::Constant(1 << 30), b = -a;
        for (int c = 0; c < 3; ++c) {
          const Eigen::Vector3i q = cell_of(m.vertices[m.triangles[f][c]].cast<double>());
          a = a.cwiseMin(q), b = b.cwiseMax(q);
        }
        for (int z = a.z(); z <= b.z(); ++z)
          for (int y = a.y(); y <= b.y(); ++y)
            for (int x = a.x(); x <= b.x(); ++x) {
              const std::size_t cell = index(x, y, z);
              if (pass == 0)
                ++start_[cell + 1];
              else
                items_[fill[cell]++] = std::uint32_t(f);
            }
      }
    }
  }

  // Squared distance from p to the nearest triangle: rings of cells around p's cell until no closer cell is left.
  double nearest_d2(const Eigen::Vector3d& p) const {
    const Eigen::Vector3i c = cell_of(p);
    double best = std::numeric_limits<double>::infinity();
    const int max_ring = n_.maxCoeff();
    for (int k = 0; k <= max_ring; ++k) {
      for (int z = c.z() - k; z <= c.z() + k; ++z)
        for (int y = c.y() - k; y <= c.y() + k; ++y)
          for (int x = c.x() - k; x <= c.x() + k; ++x) {
            if (std::max({std::abs(x - c.x()), std::abs(y - c.y()), std::abs(z - c.z())}) != k) continue;
            if (x < 0 || y < 0 || z < 0 || x >= n_.x() || y >= n_.y() || z >= n_.z()) continue;
            const std::size_t cell = index(x, y, z);
            for (std::uint32_t i = start_[cell]; i < start_[cell + 1]; ++i) {
              const auto& t = m_.triangles[items_[i]];
              best =
                  std::min(best, point_triangle_d2(p, m_.vertices[t[0]].cast<double>(),
                                                   m_.vertices[t[1]].cast<double>(), m_.vertices[t[2]].cast<double>()));
            }
          }
      // Cells of ring k + 1 and beyond are at least k * h from p (p lies inside its own cell).
      if (best <= (k * h_) * (k * h_)) break;
    }
    return best;
  }

 private:
  Eigen::Vector3i cell_of(const Eigen::Vector3d& p) const {
    Eigen::Vector3i q;
    for (int a = 0; a < 3; ++a) q[a] = std::clamp(int(std::floor((p[a] - lo_[a]) / h_)), 0, n_[a] - 1);
    return q;
  }
  std::size_t index(int x, int y, int z) const { return (std::size_t(z) * n_.y() + y) * n_.x() + x; }

  const Mesh& m_;
  double h_ = 1;
  Eigen::Vector3d lo_;
  Eigen::Vector3i n_;
  std::vector<std::uint32_t> start_, items_;
};

// Distances from the samples of `from` (vertices and centroids) to the surface `to`: sum and max.
void one_way(const Mesh& from, const TriangleGrid& to, double& sum, double& max, std::size_t& count) {
  auto add = [&](const Eigen::Vector3d& p) {
    const double d = std::sqrt(to.nearest_d2(p));
    sum += d, max = std::max(max, d), ++count;
  };
  for (const auto& v : from.vertices) add(v.cast<double>());
  for (const auto& t : from.triangles)
    add((from.vertices[t[0]] + from.vertices[t[1]] + from.vertices[t[2]]).cast<double>() / 3.0);
}

}  // namespace

SurfaceDistance surface_distance(const Mesh& a, const Mesh& b) {
  validate_mesh(a, "surface_distance (first mesh)");
  validate_mesh(b, "surface_distance (second mesh)");
  XL_CHECK(!a.empty() && !b.empty(), "surface_distance: a mesh has no triangles (", a.triangle_count(), ", ",
           b.triangle_count(), ")");
  Bounds region = bounds(a);
  const Bounds bb = bounds(b);
  region.add(bb.lo), region.add(bb.hi);
  double sum = 0, max = 0;
  std::size_t count = 0;
  one_way(a, TriangleGrid(b, region), sum, max, count);
  one_way(b, TriangleGrid(a, region), sum, max, count);
  return {max, sum / double(count)};
}

void Mesh::append(const Mesh& other) {
  const int base = static_cast<int>(vertices.size());
  vertices.insert(vertices.end(), other.vertices.begin(), other.vertices.end());
  for (const auto& t : other.triangles) triangles.push_back(t + Eigen::Vector3i::Constant(base));
}

Bounds bounds(const Mesh& m) {
  Bounds b;
  for (const auto& v : m.vertices) b.add(v.cast<double>());
  return b;
}

double surface_area(const Mesh& m) {
  double a = 0;
  for (const auto& t : m.triangles) {
    const Eigen::Vector3d p0 = m.vertices[t[0]].cast<double>(), p1 = m.vertices[t[1]].cast<double>(),
                          p2 = m.vertices[t[2]].cast<double>();
    a += 0.5 * (p1 - p0).cross(p2 - p0).norm();
  }
  return a;
}

double signed_volume(const Mesh& m) {
  double v = 0;
  for (const auto& t : m.triangles) {
    const Eigen::Vector3d p0 = m.vertices[t[0]].cast<double>(), p1 = m.vertices[t[1]].cast<double>(),
                          p2 = m.vertices[t[2]].cast<double>();
    v += p0.dot(p1.cross(p2)) / 6.0;
  }
  return v;
}

bool is_watertight(const Mesh& m) {
  if (m.triangles.empty()) return false;
  std::unordered_map<std::uint64_t, int> directed;
  directed.reserve(m.triangles.size() * 3);
  auto key = [](int a, int b) { return (std::uint64_t(std::uint32_t(a)) << 32) | std::uint32_t(b); };
  for (const auto& t : m.triangles) {
    for (int e = 0; e < 3; ++e) {
      const int a = t[e], b = t[(e + 1) % 3];
      if (a == b) return false;
      if (++directed[key(a, b)] > 1) return false;  // same directed edge twice: non-manifold or flipped
    }
  }
  for (const auto& [k, n] : directed) {
    const int a = int(k >> 32), b = int(k & 0xffffffffu);
    if (!directed.count(key(b, a))) return false;  // boundary edge
  }
  return true;
}

std::vector<Eigen::Vector3f> vertex_normals(const Mesh& m) {
  std::vector<Eigen::Vector3f> n(m.vertices.size(), Eigen::Vector3f::Zero());
  for (const auto& t : m.triangles) {
    const Eigen::Vector3f fn = (m.vertices[t[1]] - m.vertices[t[0]]).cross(m.vertices[t[2]] - m.vertices[t[0]]);
    for (int c = 0; c < 3; ++c) n[t[c]] += fn;
  }
  for (auto& v : n) {
    const float len = v.norm();
    if (len > 0) v /= len;
  }
  return n;
}

void validate_mesh(const Mesh& m, const std::string& where) {
  const int nv = static_cast<int>(m.vertices.size());
  for (std::size_t i = 0; i < m.vertices.size(); ++i)
    XL_CHECK(m.vertices[i].allFinite(), where, ": vertex ", i, " is not finite");
  for (std::size_t i = 0; i < m.triangles.size(); ++i)
    for (int c = 0; c < 3; ++c)
      XL_CHECK(m.triangles[i][c] >= 0 && m.triangles[i][c] < nv, where, ": triangle ", i, " index ", m.triangles[i][c],
               " outside [0, ", nv, ")");
}

void compact(Mesh& m) {
  std::vector<int> remap(m.vertices.size(), -1);
  std::vector<Eigen::Vector3f> verts;
  std::vector<Eigen::Vector3i> tris;
  tris.reserve(m.triangles.size());
  for (const auto& t : m.triangles) {
    if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) continue;
    Eigen::Vector3i nt;
    for (int c = 0; c < 3; ++c) {
      int& r = remap[t[c]];
      if (r < 0) {
        r = static_cast<int>(verts.size());
        verts.push_back(m.vertices[t[c]]);
      }
      nt[c] = r;
    }
    tris.push_back(nt);
  }
  m.vertices = std::move(verts);
  m.triangles = std::move(tris);
}

Mesh make_sphere(const Eigen::Vector3d& centre, double radius, int rings, int segments) {
  XL_CHECK(radius > 0 && std::isfinite(radius), "sphere radius ", radius, " mm: expected > 0");
  XL_CHECK(rings >= 2 && segments >= 3, "sphere tessellation ", rings, "x", segments, ": expected >= 2 x 3");
  Mesh m;
  const Eigen::Vector3f c = centre.cast<float>();
  m.vertices.push_back(c + Eigen::Vector3f(0, 0, float(radius)));  // north pole (+z)
  for (int r = 1; r < rings; ++r) {
    const double th = M_PI * r / rings;
    for (int s = 0; s < segments; ++s) {
      const double ph = 2 * M_PI * s / segments;
      m.vertices.push_back(
          c + (radius * Eigen::Vector3d(std::sin(th) * std::cos(ph), std::sin(th) * std::sin(ph), std::cos(th)))
                  .cast<float>());
    }
  }
  const int south = static_cast<int>(m.vertices.size());
  m.vertices.push_back(c - Eigen::Vector3f(0, 0, float(radius)));
  auto ring_v = [&](int r, int s) { return 1 + (r - 1) * segments + (s % segments); };
  for (int s = 0; s < segments; ++s) m.triangles.emplace_back(0, ring_v(1, s), ring_v(1, s + 1));
  for (int r = 1; r + 1 < rings; ++r)
    for (int s = 0; s < segments; ++s) {
      const int a = ring_v(r, s), b = ring_v(r, s + 1), cc = ring_v(r + 1, s), d = ring_v(r + 1, s + 1);
      m.triangles.emplace_back(a, cc, d);
      m.triangles.emplace_back(a, d, b);
    }
  for (int s = 0; s < segments; ++s) m.triangles.emplace_back(south, ring_v(rings - 1, s + 1), ring_v(rings - 1, s));
  return m;
}

Mesh make_box(const Eigen::Vector3d& centre, const Eigen::Vector3d& size) {
  XL_CHECK(size.allFinite() && size.minCoeff() > 0, "box size (", size.transpose(), ") mm: expected > 0");
  Mesh m;
  const Eigen::Vector3d h = 0.5 * size;
  for (int n = 0; n < 8; ++n)
    m.vertices.push_back(
        (centre + Eigen::Vector3d((n & 1) ? h.x() : -h.x(), (n & 2) ? h.y() : -h.y(), (n & 4) ? h.z() : -h.z()))
            .cast<float>());
  // Faces as quads (outward CCW), split into two triangles each.
  const int quads[6][4] = {{0, 4, 6, 2}, {1, 3, 7, 5}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 2, 3, 1}, {4, 5, 7, 6}};
  for (const auto& q : quads) {
    m.triangles.emplace_back(q[0], q[1], q[2]);
    m.triangles.emplace_back(q[0], q[2], q[3]);
  }
  return m;
}

}  // namespace xraylift::viz
