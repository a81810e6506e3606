// Decimation: meshoptimizer (decimate_meshopt), with the own quadric-error edge collapse (Garland & Heckbert 1997,
// decimate_qem, keeps a closed mesh a closed 2-manifold) as the fallback (docs/viz.md "Libraries").
#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <queue>

#include <meshoptimizer.h>

#include "xraylift/core/error.hpp"
#include "xraylift/viz/surface.hpp"

namespace xraylift::viz {
namespace {

struct Candidate {
  double cost;
  int u, v;
  unsigned version_u, version_v;
  Eigen::Vector3d target;
  bool operator>(const Candidate& o) const { return cost > o.cost; }
};

class Decimator {
 public:
  explicit Decimator(Mesh& m) : m_(m) {
    const std::size_t nv = m.vertices.size();
    pos_.resize(nv);
    for (std::size_t i = 0; i < nv; ++i) pos_[i] = m.vertices[i].cast<double>();
    quadric_.assign(nv, Eigen::Matrix4d::Zero());
    faces_of_.resize(nv);
    version_.assign(nv, 0);
    face_alive_.assign(m.triangles.size(), true);
    live_faces_ = m.triangles.size();
    for (std::size_t f = 0; f < m.triangles.size(); ++f) {
      const auto& t = m.triangles[f];
      const Eigen::Vector3d n = (pos_[t[1]] - pos_[t[0]]).cross(pos_[t[2]] - pos_[t[0]]);
      const double area2 = n.norm();
      for (int c = 0; c < 3; ++c) faces_of_[t[c]].push_back(int(f));
      if (area2 <= 0) continue;
      Eigen::Vector4d plane;
      plane << n / area2, -(n / area2).dot(pos_[t[0]]);
      const Eigen::Matrix4d K = 0.5 * area2 * plane * plane.transpose();
      for (int c = 0; c < 3; ++c) quadric_[t[c]] += K;
    }
  }

  void run(std::size_t target) {
    for (std::size_t f = 0; f < m_.triangles.size(); ++f)
      for (int e = 0; e < 3; ++e) {
        const int a = m_.triangles[f][e], b = m_.triangles[f][(e + 1) % 3];
        if (a < b) push(a, b);
      }
    while (live_faces_ > target && !heap_.empty()) {
      const Candidate c = heap_.top();
      heap_.pop();
      if (c.version_u != version_[c.u] || c.version_v != version_[c.v]) continue;  // stale
      collapse(c);
    }
    for (std::size_t i = 0; i < pos_.size(); ++i) m_.vertices[i] = pos_[i].cast<float>();
    std::vector<Eigen::Vector3i> kept;
    kept.reserve(live_faces_);
    for (std::size_t f = 0; f < m_.triangles.size(); ++f)
      if (face_alive_[f]) kept.push_back(m_.triangles[f]);
    m_.triangles = std::move(kept);
    compact(m_);
  }

 private:
  static double cost_at(const Eigen::Matrix4d& Q, const Eigen::Vector3d& p) {
    const Eigen::Vector4d h(p.x(), p.y(), p.z(), 1.0);
    return std::max(0.0, h.dot(Q * h));
  }

  void push(int u, int v) {
    const Eigen::Matrix4d Q = quadric_[u] + quadric_[v];
    const Eigen::Vector3d mid = 0.5 * (pos_[u] + pos_[v]);
    const double len = (pos_[u] - pos_[v]).norm();
    Eigen::Vector3d best = mid;
    double best_cost = cost_at(Q, mid);
    for (const Eigen::Vector3d& p : {pos_[u], pos_[v]}) {
      const double c = cost_at(Q, p);
      if (c < best_cost) best_cost = c, best = p;
    }
    const Eigen::Matrix3d A = Q.topLeftCorner<3, 3>();
    const Eigen::FullPivLU<Eigen::Matrix3d> lu(A);
    if (lu.isInvertible() && lu.rcond() > 1e-8) {
      const Eigen::Vector3d p = lu.solve(-Q.topRightCorner<3, 1>());
      // The optimum of a nearly flat region can lie far away: only trust it close to the edge.
      if (p.allFinite() && (p - mid).norm() <= len) {
        const double c = cost_at(Q, p);
        if (c < best_cost) best_cost = c, best = p;
      }
    }
    heap_.push({best_cost, u, v, version_[u], version_[v], best});
  }

  void live_faces_of(int v, std::vector<int>& out) const {
    out.clear();
    for (int f : faces_of_[v])
      if (face_alive_[f]) out.push_back(f);
  }

  std::vector<int> neighbours(const std::vector<int>& faces, int v) const {
    std::vector<int> nb;
    for (int f : faces)
      for (int c = 0; c < 3; ++c)
        if (m_.triangles[f][c] != v) nb.push_back(m_.triangles[f][c]);
    std::sort(nb.begin(), nb.end());
    nb.erase(std::unique(nb.begin(), nb.end()), nb.end());
    return nb;
  }

  bool flips(const std::vector<int>& faces, int moved, int other, const Eigen::Vector3d& p) const {
    for (int f : faces) {
      const auto& t = m_.triangles[f];
      if (t[0] == other || t[1] == other || t[2] == other) continue;  // removed by the collapse
      Eigen::Vector3d q[3], r[3];
      for (int c = 0; c < 3; ++c) {
        q[c] = pos_[t[c]];
        r[c] = t[c] == moved ? p : q[c];
      }
      const Eigen::Vector3d n0 = (q[1] - q[0]).cross(q[2] - q[0]);
      const Eigen::Vector3d n1 = (r[1] - r[0]).cross(r[2] - r[0]);
      if (n1.norm() < 1e-12 || n0.dot(n1) < 0.2 * n0.norm() * n1.norm()) return true;
    }
    return false;
  }

  void collapse(const Candidate& c) {
    const int u = c.u, v = c.v;
    live_faces_of(u, fu_);
    live_faces_of(v, fv_);
    const std::vector<int> nu = neighbours(fu_, u), nv = neighbours(fv_, v);
    std::vector<int> common;
    std::set_intersection(nu.begin(), nu.end(), nv.begin(), nv.end(), std::back_inserter(common));
    // Link condition for a closed manifold: exactly the two vertices opposite the edge are shared.
    int shared_faces = 0;
    for (int f : fu_) {
      const auto& t = m_.triangles[f];
      if (t[0] == v || t[1] == v || t[2] == v) ++shared_faces;
    }
    if (shared_faces != 2 || common.size() != 2) return;
    if (nu.size() + nv.size() - common.size() - 2 < 3) return;  // would degenerate a tetrahedron
    if (flips(fu_, u, v, c.target) || flips(fv_, v, u, c.target)) return;

    for (int f : fv_) {
      auto& t = m_.triangles[f];
      if (t[0] == u || t[1] == u || t[2] == u) {
        face_alive_[f] = false;
        --live_faces_;
        continue;
      }
      for (int k = 0; k < 3; ++k)
        if (t[k] == v) t[k] = u;
      faces_of_[u].push_back(f);
    }
    faces_of_[v].clear();
    pos_[u] = c.target;
    quadric_[u] += quadric_[v];
    ++version_[u];
    ++version_[v];
    live_faces_of(u, fu_);
    faces_of_[u] = fu_;
    for (int w : neighbours(fu_, u)) push(std::min(u, w), std::max(u, w));
  }

  Mesh& m_;
  std::vector<Eigen::Vector3d> pos_;
  std::vector<Eigen::Matrix4d, Eigen::aligned_allocator<Eigen::Matrix4d>> quadric_;
  std::vector<std::vector<int>> faces_of_;
  std::vector<unsigned> version_;
  std::vector<bool> face_alive_;
  std::size_t live_faces_ = 0;
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap_;
  std::vector<int> fu_, fv_;
};

}  // namespace

void decimate_qem(Mesh& m, std::size_t target_triangles) {
  validate_mesh(m, "decimate");
  XL_CHECK(target_triangles >= 4, "decimation target ", target_triangles, " triangles: expected >= 4");
  if (m.triangles.size() <= target_triangles) return;
  Decimator(m).run(target_triangles);
}

void decimate_meshopt(Mesh& m, std::size_t target_triangles, double max_error_mm) {
  validate_mesh(m, "decimate");
  XL_CHECK(target_triangles >= 4, "decimation target ", target_triangles, " triangles: expected >= 4");
  if (m.triangles.size() <= target_triangles) return;
  static_assert(sizeof(Eigen::Vector3f) == 3 * sizeof(float) && sizeof(Eigen::Vector3i) == 3 * sizeof(int));
  std::vector<unsigned> in, out(3 * m.triangles.size());
  in.reserve(out.size());
  for (const auto& t : m.triangles)
    for (int c = 0; c < 3; ++c) in.push_back(unsigned(t[c]));
  // meshoptimizer's error is relative to the mesh extent (meshopt_simplifyScale); 1 = no limit.
  const float scale = meshopt_simplifyScale(m.vertices[0].data(), m.vertices.size(), sizeof(Eigen::Vector3f));
  const float limit = std::isfinite(max_error_mm) ? float(max_error_mm / std::max(1e-6f, scale)) : 1.0f;
  float error = 0;
  const std::size_t n = meshopt_simplify(out.data(), in.data(), in.size(), m.vertices[0].data(), m.vertices.size(),
                                         sizeof(Eigen::Vector3f), 3 * target_triangles, limit, 0, &error);
  m.triangles.resize(n / 3);
  for (std::size_t f = 0; f < n / 3; ++f) m.triangles[f] = {int(out[3 * f]), int(out[3 * f + 1]), int(out[3 * f + 2])};
  compact(m);
}

namespace {

// meshoptimizer has no link condition: collapsing a thin tube can leave two coincident triangles (e.g. of opposite
// orientation: a zero-volume sheet) hanging on the surface. Such pairs are removed; they enclose nothing.
void drop_opposite_pairs(Mesh& m) {
  std::map<std::array<int, 3>, std::vector<std::size_t>> by_set;
  for (std::size_t f = 0; f < m.triangles.size(); ++f) {
    std::array<int, 3> k = {m.triangles[f][0], m.triangles[f][1], m.triangles[f][2]};
    std::sort(k.begin(), k.end());
    by_set[k].push_back(f);
  }
  std::vector<char> drop(m.triangles.size(), 0);
  bool any = false;
  for (const auto& [key, faces] : by_set)
    if (faces.size() >= 2) {
      for (std::size_t f : faces) drop[f] = 1;
      any = true;
    }
  if (!any) return;
  std::vector<Eigen::Vector3i> kept;
  for (std::size_t f = 0; f < m.triangles.size(); ++f)
    if (!drop[f]) kept.push_back(m.triangles[f]);
  m.triangles = std::move(kept);
  compact(m);
}

}  // namespace

void decimate(Mesh& m, std::size_t target_triangles) {
  validate_mesh(m, "decimate");
  XL_CHECK(target_triangles >= 4, "decimation target ", target_triangles, " triangles: expected >= 4");
  if (m.triangles.size() <= target_triangles) return;
  const bool closed = is_watertight(m);
  Mesh fast = m;
  decimate_meshopt(fast, target_triangles, std::numeric_limits<double>::infinity());
  drop_opposite_pairs(fast);
  // A closed input stays closed: where meshoptimizer's result is not (it has no link condition), the own QEM
  // edge collapse, which keeps a closed 2-manifold, decimates the input instead (docs/viz.md "Libraries").
  if (!closed || (fast.triangle_count() >= 4 && is_watertight(fast))) {
    m = std::move(fast);
    return;
  }
  decimate_qem(m, target_triangles);
}

}  // namespace xraylift::viz
