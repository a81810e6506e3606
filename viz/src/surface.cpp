#include "xraylift/viz/surface.hpp"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "xraylift/core/error.hpp"

namespace xraylift::viz {
namespace {

// Kuhn decomposition of the unit cube: 6 tetrahedra along the diagonal 0 -> 7 (corner bit 1 = +x, 2 = +y,
// 4 = +z). Every cube is cut the same way, so the two cubes sharing a face cut it along the same diagonal.
constexpr int kTets[6][4] = {{0, 1, 3, 7}, {0, 1, 5, 7}, {0, 2, 3, 7}, {0, 2, 6, 7}, {0, 4, 5, 7}, {0, 4, 6, 7}};

class IsoBuilder {
 public:
  IsoBuilder(const core::VolumeF& f, float iso) : f_(f), iso_(iso), n_(f.dims()) {
    XL_CHECK((n_.cast<double>() + Eigen::Vector3d::Constant(2)).prod() < 4e9, "isosurface field of ", n_.transpose(),
             " voxels: expected fewer than 4e9 grid points");
    float lo = iso;
    for (float v : f.values()) lo = std::min(lo, v);
    outside_ = std::min(lo, iso - 1e-3f);
    edge_vertex_.reserve(1 << 16);
  }

  Mesh run() {
    for (int k = -1; k < n_.z(); ++k)
      for (int j = -1; j < n_.y(); ++j)
        for (int i = -1; i < n_.x(); ++i) cube(i, j, k);
    return std::move(mesh_);
  }

 private:
  float value(int i, int j, int k) const { return f_.in_bounds(i, j, k) ? f_.at(i, j, k) : outside_; }
  // Grid vertices indexed with a one-voxel pad on each side so (-1, -1, -1) is 0.
  std::int64_t gid(const Eigen::Vector3i& p) const {
    return (p.x() + 1) + std::int64_t(n_.x() + 2) * ((p.y() + 1) + std::int64_t(n_.y() + 2) * (p.z() + 1));
  }

  int edge_vertex(const Eigen::Vector3i& a, float va, const Eigen::Vector3i& b, float vb) {
    std::int64_t ga = gid(a), gb = gid(b);
    const bool swapped = ga > gb;
    if (swapped) std::swap(ga, gb);
    const std::uint64_t key = (std::uint64_t(ga) << 32) | std::uint64_t(gb);
    auto it = edge_vertex_.find(key);
    if (it != edge_vertex_.end()) return it->second;
    const double t = double(iso_ - va) / double(vb - va);
    const Eigen::Vector3d ijk = a.cast<double>() + t * (b - a).cast<double>();
    const int id = static_cast<int>(mesh_.vertices.size());
    mesh_.vertices.push_back(f_.index_to_world(ijk).cast<float>());
    edge_vertex_.emplace(key, id);
    return id;
  }

  void emit(int a, int b, int c, const Eigen::Vector3d& outward) {
    const Eigen::Vector3f n = (mesh_.vertices[b] - mesh_.vertices[a]).cross(mesh_.vertices[c] - mesh_.vertices[a]);
    if (n.cast<double>().dot(outward) < 0) std::swap(b, c);
    mesh_.triangles.emplace_back(a, b, c);
  }

  void cube(int i, int j, int k) {
    Eigen::Vector3i p[8];
    float v[8];
    int inside_count = 0;
    for (int c = 0; c < 8; ++c) {
      p[c] = Eigen::Vector3i(i + (c & 1), j + ((c >> 1) & 1), k + ((c >> 2) & 1));
      v[c] = value(p[c].x(), p[c].y(), p[c].z());
      inside_count += v[c] > iso_;
    }
    if (inside_count == 0 || inside_count == 8) return;
    for (const auto& tet : kTets) {
      int in[4], out[4], ni = 0, no = 0;
      for (int c : tet) (v[c] > iso_ ? in[ni++] : out[no++]) = c;
      if (ni == 0 || no == 0) continue;
      // Inside -> outside direction, in world terms, orients the triangles.
      Eigen::Vector3d ci = Eigen::Vector3d::Zero(), co = Eigen::Vector3d::Zero();
      for (int n = 0; n < ni; ++n) ci += p[in[n]].cast<double>();
      for (int n = 0; n < no; ++n) co += p[out[n]].cast<double>();
      const Eigen::Vector3d outward_idx = co / no - ci / ni;
      const Eigen::Vector3d outward = f_.geometry().direction * outward_idx.cwiseProduct(f_.spacing());
      auto ev = [&](int a, int b) { return edge_vertex(p[a], v[a], p[b], v[b]); };
      if (ni == 1) {
        emit(ev(in[0], out[0]), ev(in[0], out[1]), ev(in[0], out[2]), outward);
      } else if (ni == 3) {
        emit(ev(out[0], in[0]), ev(out[0], in[1]), ev(out[0], in[2]), outward);
      } else {
        const int q0 = ev(in[0], out[0]), q1 = ev(in[0], out[1]), q2 = ev(in[1], out[1]), q3 = ev(in[1], out[0]);
        emit(q0, q1, q2, outward);
        emit(q0, q2, q3, outward);
      }
    }
  }

  const core::VolumeF& f_;
  float iso_;
  Eigen::Vector3i n_;
  float outside_;
  Mesh mesh_;
  std::unordered_map<std::uint64_t, int> edge_vertex_;
};

}  // namespace

Mesh extract_isosurface(const core::VolumeF& field, float iso) {
  field.geometry().validate("isosurface field");
  XL_CHECK(std::isfinite(iso), "isosurface level ", iso, ": expected a finite number");
  return IsoBuilder(field, iso).run();
}

core::VolumeF downsample_mask(const core::VolumeU8& mask, const Eigen::Vector3i& factor) {
  mask.geometry().validate("mask");
  XL_CHECK(factor.minCoeff() >= 1, "downsample factor (", factor.transpose(), "): expected >= 1 per axis");
  const Eigen::Vector3i n = mask.dims();
  core::VolumeGeometry g = mask.geometry();
  for (int a = 0; a < 3; ++a) g.dims[a] = (n[a] + factor[a] - 1) / factor[a];
  g.spacing = mask.spacing().cwiseProduct(factor.cast<double>());
  g.origin = mask.geometry().index_to_world(0.5 * (factor.cast<double>() - Eigen::Vector3d::Ones()));
  core::VolumeF out(g, 0.f);
  std::vector<float> count(out.values().size(), 0.f);
  for (int k = 0; k < n.z(); ++k)
    for (int j = 0; j < n.y(); ++j)
      for (int i = 0; i < n.x(); ++i) {
        const auto idx = out.linear(i / factor.x(), j / factor.y(), k / factor.z());
        out.values()[idx] += mask.at(i, j, k) ? 1.f : 0.f;
        count[idx] += 1.f;
      }
  for (std::size_t n2 = 0; n2 < count.size(); ++n2) out.values()[n2] /= std::max(count[n2], 1.f);
  return out;
}

core::VolumeF gaussian_blur(const core::VolumeF& v, const Eigen::Vector3d& sigma_voxels) {
  XL_CHECK(sigma_voxels.allFinite() && sigma_voxels.minCoeff() >= 0, "blur sigma (", sigma_voxels.transpose(),
           ") voxels: expected >= 0");
  core::VolumeF cur = v;
  const Eigen::Vector3i n = v.dims();
  for (int axis = 0; axis < 3; ++axis) {
    const double s = sigma_voxels[axis];
    if (s < 1e-3) continue;
    const int r = std::max(1, int(std::ceil(3 * s)));
    std::vector<float> w(2 * r + 1);
    double total = 0;
    for (int d = -r; d <= r; ++d) total += (w[d + r] = float(std::exp(-0.5 * d * d / (s * s))));
    for (auto& x : w) x = float(x / total);
    core::VolumeF next(cur.geometry());
    const std::int64_t stride = axis == 0 ? 1 : axis == 1 ? n.x() : std::int64_t(n.x()) * n.y();
    const int len = n[axis];
    for (int k = 0; k < n.z(); ++k)
      for (int j = 0; j < n.y(); ++j)
        for (int i = 0; i < n.x(); ++i) {
          const int pos = axis == 0 ? i : axis == 1 ? j : k;
          const std::int64_t base = cur.linear(i, j, k) - pos * stride;
          float acc = 0;
          for (int d = -r; d <= r; ++d) {
            const int q = std::clamp(pos + d, 0, len - 1);
            acc += w[d + r] * cur.values()[base + q * stride];
          }
          next.at(i, j, k) = acc;
        }
    cur = std::move(next);
  }
  return cur;
}

Mesh mask_surface(const core::VolumeU8& mask, double blur_sigma_mm, const Eigen::Vector3i& downsample) {
  XL_CHECK(std::isfinite(blur_sigma_mm) && blur_sigma_mm >= 0, "blur sigma ", blur_sigma_mm, " mm: expected >= 0");
  // Crop to the mask's bounding box plus a margin so the blur and the extraction stay cheap.
  const Eigen::Vector3i n = mask.dims();
  Eigen::Vector3i lo = n, hi = Eigen::Vector3i::Constant(-1);
  for (int k = 0; k < n.z(); ++k)
    for (int j = 0; j < n.y(); ++j)
      for (int i = 0; i < n.x(); ++i)
        if (mask.at(i, j, k)) {
          lo = lo.cwiseMin(Eigen::Vector3i(i, j, k));
          hi = hi.cwiseMax(Eigen::Vector3i(i, j, k));
        }
  if (hi.x() < 0) return {};
  Eigen::Vector3i margin;
  for (int a = 0; a < 3; ++a)
    margin[a] = downsample[a] * (2 + int(std::ceil(3 * blur_sigma_mm / (mask.spacing()[a] * downsample[a]))));
  // The crop is padded with background beyond the volume (the blur must see zeros there, not clamped mask).
  const Eigen::Vector3i c0 = lo - margin, dims = hi - lo + 2 * margin + Eigen::Vector3i::Ones();
  core::VolumeGeometry g = mask.geometry();
  g.dims = dims;
  g.origin = mask.geometry().index_to_world(c0.cast<double>());
  core::VolumeU8 crop(g, 0);
  for (int k = 0; k < dims.z(); ++k)
    for (int j = 0; j < dims.y(); ++j)
      for (int i = 0; i < dims.x(); ++i) {
        const Eigen::Vector3i s = c0 + Eigen::Vector3i(i, j, k);
        if (mask.in_bounds(s.x(), s.y(), s.z())) crop.at(i, j, k) = mask.at(s.x(), s.y(), s.z()) ? 1 : 0;
      }
  core::VolumeF field = downsample_mask(crop, downsample);
  if (blur_sigma_mm > 0)
    field = gaussian_blur(field, Eigen::Vector3d::Constant(blur_sigma_mm).cwiseQuotient(field.spacing()));
  return extract_isosurface(field, 0.5f);
}

void taubin_smooth(Mesh& m, const TaubinOptions& o) {
  XL_CHECK(o.iterations >= 0 && o.lambda > 0 && o.lambda < 1 && o.mu < -o.lambda, "Taubin options (iterations ",
           o.iterations, ", lambda ", o.lambda, ", mu ", o.mu,
           "): expected iterations >= 0, 0 < lambda < 1, mu < -lambda");
  validate_mesh(m, "taubin_smooth");
  const std::size_t nv = m.vertices.size();
  std::vector<std::vector<int>> nb(nv);
  for (const auto& t : m.triangles)
    for (int e = 0; e < 3; ++e) {
      nb[t[e]].push_back(t[(e + 1) % 3]);
      nb[t[e]].push_back(t[(e + 2) % 3]);
    }
  for (auto& l : nb) {
    std::sort(l.begin(), l.end());
    l.erase(std::unique(l.begin(), l.end()), l.end());
  }
  std::vector<Eigen::Vector3f> delta(nv);
  auto pass = [&](double factor) {
    for (std::size_t v = 0; v < nv; ++v) {
      if (nb[v].empty()) {
        delta[v].setZero();
        continue;
      }
      Eigen::Vector3f mean = Eigen::Vector3f::Zero();
      for (int u : nb[v]) mean += m.vertices[u];
      delta[v] = mean / float(nb[v].size()) - m.vertices[v];
    }
    for (std::size_t v = 0; v < nv; ++v) m.vertices[v] += float(factor) * delta[v];
  };
  for (int it = 0; it < o.iterations; ++it) {
    pass(o.lambda);
    pass(o.mu);
  }
}

}  // namespace xraylift::viz
