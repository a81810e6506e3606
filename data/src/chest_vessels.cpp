// Vessel trees of the `chest` phantom model (docs/data.md "Phantoms"): space colonization (Runions, Lane &
// Prusinkiewicz 2007, "Modeling trees with a space colonization algorithm") from the hila into each lung, radii by
// Murray's law (r_parent^3 = sum r_child^3) from a terminal radius, partial-volume rendering of blood and of the
// airways that run beside the arteries. Everything is sequential or writes per slab with max(), so the result does
// not depend on the thread count.
#include <Eigen/Geometry>

#include <algorithm>
#include <array>
#include <cmath>

#include "chest_anatomy.hpp"
#include "xraylift/core/parallel.hpp"

namespace xraylift::data::detail {

namespace {

constexpr float kBloodHu = 40, kAirHu = -1000, kWallHu = 40;

bool is_lung(std::uint8_t l) { return l == kLabelRightLung || l == kLabelLeftLung; }

struct LungBox {
  Eigen::Vector3i lo{1 << 30, 1 << 30, 1 << 30}, hi{-1, -1, -1};
  std::int64_t voxels = 0;
};

// A uniform grid of attraction-point indices over a box.
class PointGrid {
 public:
  PointGrid(const Eigen::Vector3d& lo, const Eigen::Vector3d& hi, double cell) : lo_(lo), cell_(cell) {
    for (int a = 0; a < 3; ++a) n_[a] = std::max(1, int(std::ceil((hi[a] - lo[a]) / cell)) + 1);
    cells_.resize(std::size_t(n_[0]) * n_[1] * n_[2]);
  }
  Eigen::Vector3i cell_of(const Eigen::Vector3d& p) const {
    Eigen::Vector3i c;
    for (int a = 0; a < 3; ++a) c[a] = std::clamp(int(std::floor((p[a] - lo_[a]) / cell_)), 0, n_[a] - 1);
    return c;
  }
  std::vector<int>& cell(int x, int y, int z) { return cells_[(std::size_t(z) * n_[1] + y) * n_[0] + x]; }
  int n(int a) const { return n_[a]; }

 private:
  Eigen::Vector3d lo_;
  double cell_;
  int n_[3];
  std::vector<std::vector<int>> cells_;
};

struct Colonizer {
  const ChestVesselOptions& opt;
  std::vector<Eigen::Vector3d> pts;
  std::vector<char> alive;
  std::vector<int> best;
  std::vector<double> best_d2;
  PointGrid grid;
  std::vector<PhantomVesselNode> nodes;
  std::vector<int> children;
  std::vector<std::array<int, 3>> kids;

  Colonizer(const ChestVesselOptions& o, std::vector<Eigen::Vector3d> points, const Eigen::Vector3d& lo,
            const Eigen::Vector3d& hi)
      : opt(o), pts(std::move(points)), grid(lo, hi, o.influence_mm) {
    alive.assign(pts.size(), 1);
    best.assign(pts.size(), -1);
    best_d2.assign(pts.size(), o.influence_mm * o.influence_mm);
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const auto c = grid.cell_of(pts[i]);
      grid.cell(c.x(), c.y(), c.z()).push_back(int(i));
    }
  }

  // Adds a node: points within the kill distance are reached (removed), the others may now be nearest to it.
  void add(const Eigen::Vector3d& p, int parent, int tree) {
    const int idx = int(nodes.size());
    nodes.push_back({p, parent, 0.0, tree});
    children.push_back(0);
    kids.push_back({-1, -1, -1});
    if (parent >= 0 && children[parent] < 3) kids[parent][children[parent]] = idx;
    if (parent >= 0) ++children[parent];
    const double kill2 = opt.kill_mm * opt.kill_mm;
    const auto c = grid.cell_of(p);
    for (int z = std::max(0, c.z() - 1); z <= std::min(grid.n(2) - 1, c.z() + 1); ++z)
      for (int y = std::max(0, c.y() - 1); y <= std::min(grid.n(1) - 1, c.y() + 1); ++y)
        for (int x = std::max(0, c.x() - 1); x <= std::min(grid.n(0) - 1, c.x() + 1); ++x) {
          auto& cell = grid.cell(x, y, z);
          for (std::size_t n = 0; n < cell.size();) {
            const int a = cell[n];
            const double d2 = (pts[a] - p).squaredNorm();
            if (d2 < kill2) {
              alive[a] = 0;
              cell[n] = cell.back();
              cell.pop_back();
              continue;
            }
            if (d2 < best_d2[a]) {
              best_d2[a] = d2;
              best[a] = idx;
            }
            ++n;
          }
        }
  }

  template <typename InLung>
  void run(InLung&& in_lung) {
    std::vector<Eigen::Vector3d> pull;
    std::vector<int> touched;
    for (int iter = 0; iter < 4000; ++iter) {
      pull.assign(nodes.size(), Eigen::Vector3d::Zero());
      touched.clear();
      for (std::size_t a = 0; a < pts.size(); ++a) {
        if (!alive[a] || best[a] < 0) continue;
        const Eigen::Vector3d v = pts[a] - nodes[best[a]].p;
        if (pull[best[a]].isZero()) touched.push_back(best[a]);
        pull[best[a]] += v.normalized();
      }
      std::sort(touched.begin(), touched.end());
      std::vector<std::pair<int, Eigen::Vector3d>> grown;
      for (int n : touched) {
        if (children[n] >= 3) continue;
        Eigen::Vector3d d = pull[n];
        if (d.norm() < 1e-6) continue;  // pulled equally from opposite sides
        d.normalize();
        const Eigen::Vector3d q = nodes[n].p + opt.step_mm * d;
        if (!in_lung(q)) continue;
        grown.push_back({n, q});
      }
      // A node pulled the same way again would stack a duplicate child: keep it only if no sibling is that close.
      int added = 0;
      for (const auto& [n, q] : grown) {
        bool dup = false;
        for (int m : kids[n])
          dup = dup || (m >= 0 && (nodes[m].p - q).squaredNorm() < 0.04 * opt.step_mm * opt.step_mm);
        if (dup) continue;
        add(q, n, nodes[n].tree);
        ++added;
      }
      if (!added) break;
    }
  }
};

// Jacobi smoothing of the chains (nodes with one child): space colonization's zigzag becomes a curve.
void smooth(std::vector<PhantomVesselNode>& nodes, const std::vector<int>& children, const std::vector<int>& child) {
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<Eigen::Vector3d> p(nodes.size());
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      p[n] = nodes[n].p;
      if (nodes[n].parent >= 0 && children[n] == 1)
        p[n] = 0.5 * nodes[n].p + 0.25 * (nodes[nodes[n].parent].p + nodes[child[n]].p);
    }
    for (std::size_t n = 0; n < nodes.size(); ++n) nodes[n].p = p[n];
  }
}

// Murray's law from the leaves up: a leaf has the terminal radius, a node r^3 = sum of its children's r^3.
void murray_radii(std::vector<PhantomVesselNode>& nodes, double terminal) {
  std::vector<double> r3(nodes.size(), 0.0);
  std::vector<char> has_child(nodes.size(), 0);
  for (const auto& n : nodes)
    if (n.parent >= 0) has_child[n.parent] = 1;
  for (int n = int(nodes.size()) - 1; n >= 0; --n) {
    if (!has_child[n]) r3[n] = terminal * terminal * terminal;
    nodes[n].radius_mm = std::cbrt(r3[n]);
    if (nodes[n].parent >= 0) r3[nodes[n].parent] += r3[n];
  }
}

}  // namespace

std::vector<PhantomVesselNode> grow_chest_vessels(const ChestLayout& lay, const Phantom& ph, std::uint64_t seed,
                                                  const ChestVesselOptions& opt) {
  const auto& g = ph.labels.geometry();
  const auto& d = g.dims;
  std::array<LungBox, 2> box;
  for (int k = 0; k < d.z(); ++k)
    for (int j = 0; j < d.y(); ++j)
      for (int i = 0; i < d.x(); ++i) {
        const auto l = ph.labels.at(i, j, k);
        if (!is_lung(l)) continue;
        auto& b = box[l == kLabelRightLung ? 0 : 1];
        b.lo = b.lo.cwiseMin(Eigen::Vector3i(i, j, k));
        b.hi = b.hi.cwiseMax(Eigen::Vector3i(i, j, k));
        ++b.voxels;
      }
  const double voxel_ml = g.spacing.prod() / 1000.0;
  auto lung_at = [&](const Eigen::Vector3d& p, std::uint8_t label) {
    const Eigen::Vector3d idx = g.world_to_index(p);
    const int i = int(std::lround(idx.x())), j = int(std::lround(idx.y())), k = int(std::lround(idx.z()));
    return ph.labels.in_bounds(i, j, k) && ph.labels.at(i, j, k) == label;
  };
  std::vector<PhantomVesselNode> all;
  HashRng rng(seed ^ 0x5EED7EE5ull);
  for (int side = 0; side < 2; ++side) {
    const auto& b = box[side];
    if (b.voxels < 64) continue;
    const std::uint8_t label = side == 0 ? kLabelRightLung : kLabelLeftLung;
    const double litres = b.voxels * voxel_ml / 1000.0;
    // At most one point per 4 voxels: on coarse grids the finest vessels would not show anyway.
    const double per_litre = std::min<double>(opt.attractors_per_litre, 1e6 / (4 * g.spacing.prod()));
    const int want = std::max(8, int(std::lround(per_litre * litres)));
    std::vector<Eigen::Vector3d> pts;
    const Eigen::Vector3d span = (b.hi - b.lo).cast<double>() + Eigen::Vector3d::Ones();
    for (std::int64_t tries = 0; int(pts.size()) < want && tries < 60LL * want; ++tries) {
      const Eigen::Vector3d idx = b.lo.cast<double>() - Eigen::Vector3d::Constant(0.5) +
                                  Eigen::Vector3d(rng.uniform(), rng.uniform(), rng.uniform()).cwiseProduct(span);
      const Eigen::Vector3d p = g.index_to_world(idx);
      if (lung_at(p, label)) pts.push_back(p);
    }
    // Roots: the lung voxel nearest to each nominal point: three lobar arteries around the arterial hilum, the
    // superior and inferior pulmonary veins around the venous one (the branching inside the hilum is not modelled).
    constexpr int kRoots = 5;
    const Eigen::Vector3d up = Eigen::Vector3d::UnitZ();
    const Eigen::Vector3d nominal[kRoots] = {lay.hilum_artery[side] + 18 * up, lay.hilum_artery[side],
                                             lay.hilum_artery[side] - 22 * up, lay.hilum_vein[side] + 14 * up,
                                             lay.hilum_vein[side] - 14 * up};
    const int kind[kRoots] = {0, 0, 0, 1, 1};
    Eigen::Vector3d root[kRoots];
    double best[kRoots] = {1e300, 1e300, 1e300, 1e300, 1e300};
    for (int k = b.lo.z(); k <= b.hi.z(); ++k)
      for (int j = b.lo.y(); j <= b.hi.y(); ++j)
        for (int i = b.lo.x(); i <= b.hi.x(); ++i) {
          if (ph.labels.at(i, j, k) != label) continue;
          const Eigen::Vector3d p = g.index_to_world(Eigen::Vector3d(i, j, k));
          for (int t = 0; t < kRoots; ++t) {
            const double dd = (p - nominal[t]).squaredNorm();
            if (dd < best[t]) {
              best[t] = dd;
              root[t] = p;
            }
          }
        }
    const Eigen::Vector3d lo = g.index_to_world(b.lo.cast<double>()), hi = g.index_to_world(b.hi.cast<double>());
    Colonizer col(opt, std::move(pts), lo, hi);
    for (int t = 0; t < kRoots; ++t) col.add(root[t], -1, 2 * side + kind[t]);
    col.run([&](const Eigen::Vector3d& q) { return lung_at(q, label); });
    std::vector<int> child(col.nodes.size(), -1);
    for (std::size_t n = 0; n < col.nodes.size(); ++n)
      if (col.nodes[n].parent >= 0) child[col.nodes[n].parent] = int(n);
    smooth(col.nodes, col.children, child);
    const int offset = int(all.size());
    for (auto n : col.nodes) {
      if (n.parent >= 0) n.parent += offset;
      all.push_back(n);
    }
  }
  murray_radii(all, opt.terminal_radius_mm);
  return all;
}

namespace {

// Fraction of a voxel filled by a tube of radius r at distance dist from its axis, the tube blurred by a Gaussian of
// sigma (the scanner's point spread, about half a voxel): an error-function edge for thick tubes, a Gaussian line
// of the tube's cross-section for thin ones (peak r^2 / (2 sigma^2 + r^2 / 2); the two agree at r = 2 sigma).
inline double tube_fraction(double dist, double r, double sigma) {
  if (r >= 2 * sigma) return std::clamp((r - dist) / (2.5 * sigma) + 0.5, 0.0, 1.0);
  const double var = sigma * sigma + 0.25 * r * r;
  return std::min(1.0, r * r / (2 * sigma * sigma + 0.5 * r * r)) * std::exp(-dist * dist / (2 * var));
}

struct Tube {
  Eigen::Vector3d a, b;
  double r;
};

// max-accumulates tube_fraction of every tube into `out` (0..255) over the voxels of the given labels.
void rasterize(const std::vector<Tube>& tubes, const core::VolumeU8& labels, double sigma,
               std::vector<std::uint8_t>& out) {
  const auto& g = labels.geometry();
  const int nx = g.dims.x(), ny = g.dims.y(), nz = g.dims.z();
  out.assign(std::size_t(nx) * ny * nz, 0);
  struct Range {
    Eigen::Vector3i lo, hi;
  };
  std::vector<Range> ranges(tubes.size());
  for (std::size_t t = 0; t < tubes.size(); ++t) {
    const double reach = tubes[t].r + 3 * sigma + 1e-6;
    const Eigen::Vector3d i0 = g.world_to_index(tubes[t].a.cwiseMin(tubes[t].b) - Eigen::Vector3d::Constant(reach));
    const Eigen::Vector3d i1 = g.world_to_index(tubes[t].a.cwiseMax(tubes[t].b) + Eigen::Vector3d::Constant(reach));
    for (int a = 0; a < 3; ++a) {
      ranges[t].lo[a] = std::max(0, int(std::ceil(i0[a])));
      ranges[t].hi[a] = std::min(g.dims[a] - 1, int(std::floor(i1[a])));
    }
  }
  constexpr int kSlab = 8;
  core::parallel_for((nz + kSlab - 1) / kSlab, [&](int slab) {
    const int k0 = slab * kSlab, k1 = std::min(nz - 1, k0 + kSlab - 1);
    for (std::size_t t = 0; t < tubes.size(); ++t) {
      const auto& rg = ranges[t];
      const int ka = std::max(k0, rg.lo.z()), kb = std::min(k1, rg.hi.z());
      if (ka > kb) continue;
      const Tube& tb = tubes[t];
      const Eigen::Vector3d ab = tb.b - tb.a;
      const double ab2 = std::max(ab.squaredNorm(), 1e-12), reach = tb.r + 3 * sigma;
      for (int k = ka; k <= kb; ++k)
        for (int j = rg.lo.y(); j <= rg.hi.y(); ++j)
          for (int i = rg.lo.x(); i <= rg.hi.x(); ++i) {
            const std::size_t at = (std::size_t(k) * ny + j) * nx + i;
            if (!is_lung(labels.values()[at])) continue;
            const Eigen::Vector3d p = g.index_to_world(Eigen::Vector3d(i, j, k));
            const double s = std::clamp(ab.dot(p - tb.a) / ab2, 0.0, 1.0);
            const double dist = (tb.a + s * ab - p).norm();
            if (dist >= reach) continue;
            const auto v = static_cast<std::uint8_t>(std::lround(255 * tube_fraction(dist, tb.r, sigma)));
            out[at] = std::max(out[at], v);
          }
    }
  });
}

}  // namespace

int paint_chest_vessels(const std::vector<PhantomVesselNode>& nodes, double blood_enhancement_hu, Phantom& ph) {
  const auto& g = ph.labels.geometry();
  const double sigma = 0.45 * std::cbrt(g.spacing.prod());
  std::vector<Tube> vessels, outer, inner;
  for (const auto& n : nodes)
    if (n.parent >= 0) vessels.push_back({nodes[n.parent].p, n.p, n.radius_mm});
  // Airways beside the arteries (bronchus about as wide as its artery), offset along a normal carried down the tree.
  std::vector<Eigen::Vector3d> normal(nodes.size(), Eigen::Vector3d::Zero());
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    const auto& nd = nodes[n];
    if (nd.parent < 0 || nd.tree % 2 != 0) continue;
    const Eigen::Vector3d dir = (nd.p - nodes[nd.parent].p).normalized();
    Eigen::Vector3d o = normal[nd.parent];
    if (o.isZero())
      o = dir.cross(Eigen::Vector3d::UnitZ()).norm() > 1e-3 ? dir.cross(Eigen::Vector3d::UnitZ())
                                                            : dir.unitOrthogonal();
    o -= dir * dir.dot(o);
    normal[n] = o.norm() > 1e-9 ? o.normalized() : dir.unitOrthogonal();
    if (nd.radius_mm < 1.0) continue;
    const double lumen = 0.75 * nd.radius_mm, wall = std::max(0.3, 0.2 * lumen);
    const double off = nd.radius_mm + lumen + wall + 0.5;
    const Eigen::Vector3d pa = nodes[nd.parent].p + off * (normal[nd.parent].isZero() ? normal[n] : normal[nd.parent]);
    const Eigen::Vector3d pb = nd.p + off * normal[n];
    outer.push_back({pa, pb, lumen + wall});
    inner.push_back({pa, pb, lumen});
  }
  std::vector<std::uint8_t> fv, fo, fi;
  rasterize(vessels, ph.labels, sigma, fv);
  rasterize(outer, ph.labels, sigma, fo);
  rasterize(inner, ph.labels, sigma, fi);
  auto& hu = ph.ct.hu.values();
  auto& lab = ph.labels.values();
  const float blood_hu = kBloodHu + float(blood_enhancement_hu);
  core::parallel_for(g.dims.z(), [&](int k) {
    const std::size_t n0 = std::size_t(k) * g.dims.x() * g.dims.y(), n1 = n0 + std::size_t(g.dims.x()) * g.dims.y();
    for (std::size_t n = n0; n < n1; ++n) {
      if (!fv[n] && !fo[n]) continue;
      const float v = fv[n] / 255.f, o = std::max(0.f, fo[n] / 255.f - v), i = std::min(fi[n] / 255.f, o);
      const float h = hu[n];
      const float rest = std::max(0.f, 1 - v - o);
      hu[n] = static_cast<std::int16_t>(std::lround(rest * h + v * blood_hu + (o - i) * kWallHu + i * kAirHu));
      if (v >= 0.5f)
        lab[n] = kLabelVessel;
      else if (o >= 0.5f)
        lab[n] = kLabelAirway;
    }
  });
  return int(outer.size());
}

}  // namespace xraylift::data::detail
