#include "xraylift/viz/mesh.hpp"

#include <Eigen/Geometry>
#include <cmath>
#include <unordered_map>

#include "xraylift/core/error.hpp"

namespace xraylift::viz {

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
