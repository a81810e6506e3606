// The triangulation predictor (docs/detect3d.md, "triangulate"):
//   1. seeds: closest points of every pair of detection rays (one ray per box centre, core::Camera::unproject) from
//      two views that pass within the gate, are not near-parallel, lie in front of both sources and in the scene;
//   2. growth, per seed (best scores first): in every view take the detection nearest the current estimate within
//      the gate (at most one per view), solve the centre by least squares over the members' rays, size it from
//      the back-projected extents, fit the box to the members' boxes (Levenberg-Marquardt on project_box), and
//      re-associate against the fitted box's projections until the members stop changing; members that the box
//      fitted to the others misses are dropped; clusters that fit their boxes badly are no clusters;
//   3. selection: boxes overlapping a better one in 3D (IoU > merge_iou) are duplicates; a detection claimed by
//      several clusters stays with the one whose box it matches best (the others refit or fall below min_views).
#include "xraylift/detect3d/triangulate.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "xraylift/core/error.hpp"
#include "xraylift/core/projection.hpp"
#include "xraylift/detect3d/duplicates.hpp"

namespace xraylift::detect3d {

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Det {
  int view = 0;
  int index = 0;  // in its view's input
  Eigen::Vector2d uv;
  core::Ray ray;
  double w = 0, h = 0, score = 0;
  core::Box2D box;
};

using Members = std::vector<int>;  // per view: a detection id, or -1

struct Cluster {
  Members members;
  core::Box3D box;
  double score = 0;
  int count = 0;
};

struct Seed {
  int a = 0, b = 0;
  double distance = 0;
  Eigen::Vector3d point;
};

int member_count(const Members& m) {
  return static_cast<int>(std::count_if(m.begin(), m.end(), [](int d) { return d >= 0; }));
}

// Distance of p from the ray; t is p's parameter along it.
double ray_point_distance(const core::Ray& r, const Eigen::Vector3d& p, double* t) {
  const Eigen::Vector3d v = p - r.origin;
  *t = v.dot(r.direction);
  return (v - *t * r.direction).norm();
}

class Triangulator {
 public:
  Triangulator(const std::vector<ViewDetections>& views, const TriangulateOptions& o) : views_(views), o_(o) {
    by_view_.resize(views.size());
    for (std::size_t v = 0; v < views.size(); ++v) {
      const auto& cam = views[v].camera;
      for (std::size_t i = 0; i < views[v].boxes.size(); ++i) {
        if (views[v].scores[i] < o.min_detection_score) continue;
        Det d;
        d.view = static_cast<int>(v);
        d.index = static_cast<int>(i);
        d.box = views[v].boxes[i];
        d.uv = d.box.center();
        d.ray = cam.unproject(d.uv);
        d.w = d.box.width();
        d.h = d.box.height();
        d.score = views[v].scores[i];
        by_view_[v].push_back(static_cast<int>(dets_.size()));
        dets_.push_back(d);
      }
    }
  }

  std::vector<core::BoxRecord> run() {
    std::vector<Cluster> found;
    std::vector<std::vector<int>> clusters_of(dets_.size());
    for (const Seed& s : seeds()) {
      // A seed whose two detections already belong to one cluster would grow into that cluster again.
      bool covered = false;
      for (int c : clusters_of[s.a])
        if (std::find(clusters_of[s.b].begin(), clusters_of[s.b].end(), c) != clusters_of[s.b].end()) covered = true;
      if (covered) continue;
      auto cluster = grow(s.point);
      if (!cluster) continue;
      const bool duplicate =
          std::any_of(found.begin(), found.end(), [&](const Cluster& f) { return f.members == cluster->members; });
      if (duplicate) continue;
      const int id = static_cast<int>(found.size());
      for (int d : cluster->members)
        if (d >= 0) clusters_of[d].push_back(id);
      // Also mark the seed itself: when growth dropped one of its detections, it must not be retried.
      if (cluster->members[dets_[s.a].view] != s.a) clusters_of[s.a].push_back(id);
      if (cluster->members[dets_[s.b].view] != s.b) clusters_of[s.b].push_back(id);
      found.push_back(std::move(*cluster));
    }
    return select(std::move(found));
  }

 private:
  const core::Camera& cam(int view) const { return views_[view].camera; }

  // Clusters (best first) without the ones whose box duplicates a better one's (IoU > merge_iou).
  std::vector<Cluster> distinct(std::vector<Cluster> clusters) const {
    const DuplicateRule rule{DuplicateRule::Criterion::kIou, o_.merge_iou};
    std::vector<Cluster> kept;
    std::vector<core::Box3D> boxes;
    for (Cluster& c : clusters) {
      if (duplicates_any(boxes, c.box, rule)) continue;
      boxes.push_back(c.box);
      kept.push_back(std::move(c));
    }
    return kept;
  }

  // The detection's largest extent back-projected to `depth`, mm.
  double extent_mm(const Det& d, double depth) const {
    return back_projected_extent_mm(core::Box2D{0, 0, d.w, d.h}, cam(d.view).intrinsics(), depth);
  }
  double gate(const Det& d, double depth) const { return o_.rays.tolerance_mm(extent_mm(d, depth)); }

  std::vector<Seed> seeds() const {
    std::vector<Seed> out;
    const double min_sin = o_.rays.min_sin();
    for (std::size_t vi = 0; vi < by_view_.size(); ++vi) {
      for (std::size_t vj = vi + 1; vj < by_view_.size(); ++vj) {
        for (int a : by_view_[vi]) {
          for (int b : by_view_[vj]) {
            const auto closest = core::closest_points(dets_[a].ray, dets_[b].ray, min_sin);
            if (!closest) continue;  // (nearly) parallel, or behind a source
            const Eigen::Vector3d& pa = closest->pa;
            const Eigen::Vector3d& pb = closest->pb;
            const Eigen::Vector3d mid = 0.5 * (pa + pb);
            if (!o_.scene.contains(mid)) continue;
            const double za = cam(dets_[a].view).depth(mid), zb = cam(dets_[b].view).depth(mid);
            if (za <= 0 || zb <= 0) continue;
            const double dist = (pa - pb).norm();
            const double limit = o_.rays.tolerance_mm(extent_mm(dets_[a], za) + extent_mm(dets_[b], zb));
            if (dist > limit) continue;
            out.push_back(Seed{a, b, dist, mid});
          }
        }
      }
    }
    // Best pair scores first, then the closest rays; detection ids break the remaining ties (deterministic).
    std::sort(out.begin(), out.end(), [&](const Seed& x, const Seed& y) {
      const double sx = dets_[x.a].score + dets_[x.b].score, sy = dets_[y.a].score + dets_[y.b].score;
      if (sx != sy) return sx > sy;
      if (x.distance != y.distance) return x.distance < y.distance;
      return std::make_pair(x.a, x.b) < std::make_pair(y.a, y.b);
    });
    return out;
  }

  // Nearest candidate per view; ties go to the higher score, then the lower id.
  template <typename DistanceFn>
  Members associate(DistanceFn&& distance) const {
    Members m(views_.size(), -1);
    for (std::size_t v = 0; v < by_view_.size(); ++v) {
      double best = 0;
      for (int d : by_view_[v]) {
        const std::optional<double> dist = distance(static_cast<int>(v), d);
        if (!dist) continue;
        if (m[v] < 0 || *dist < best || (*dist == best && dets_[d].score > dets_[m[v]].score)) {
          m[v] = d;
          best = *dist;
        }
      }
    }
    return m;
  }

  Members associate_point(const Eigen::Vector3d& p) const {
    return associate([&](int v, int d) -> std::optional<double> {
      const double z = cam(v).depth(p);
      if (z <= 0) return std::nullopt;
      double t = 0;
      const double dist = ray_point_distance(dets_[d].ray, p, &t);
      if (t <= 0 || dist > gate(dets_[d], z)) return std::nullopt;
      return dist;
    });
  }

  Members associate_box(const core::Box3D& box, const std::vector<int>& banned) const {
    std::vector<core::ProjectedBox> proj;
    proj.reserve(views_.size());
    for (std::size_t v = 0; v < views_.size(); ++v) proj.push_back(core::project_box(cam(static_cast<int>(v)), box));
    auto ratio_ok = [&](double a, double b) {
      return (std::max(a, b) + 1.0) / (std::min(a, b) + 1.0) <= o_.max_size_ratio;
    };
    return associate([&](int v, int d) -> std::optional<double> {
      const auto& pb = proj[v];
      if (!pb.visible || pb.center_depth <= 0) return std::nullopt;
      const Det& det = dets_[d];
      if (std::find(banned.begin(), banned.end(), d) != banned.end()) return std::nullopt;
      if (!ratio_ok(det.w, pb.box.width()) || !ratio_ok(det.h, pb.box.height())) return std::nullopt;
      const auto& k = cam(v).intrinsics();
      const Eigen::Vector2d off = det.uv - pb.box.center();
      const double dist = std::hypot(off.x() * pb.center_depth / k.fx, off.y() * pb.center_depth / k.fy);
      if (dist > gate(det, pb.center_depth)) return std::nullopt;
      return dist;
    });
  }

  // Least-squares point of the members' rays, sized from their boxes back-projected to it (linear in the sizes:
  // an axis-aligned box of size s spans |r_x| . s mm across a view whose image x axis is r_x, near enough).
  std::optional<core::Box3D> linear_box(const Members& m) const {
    Eigen::Matrix3d A = Eigen::Matrix3d::Zero();
    Eigen::Vector3d b = Eigen::Vector3d::Zero();
    int n = 0;
    for (int d : m) {
      if (d < 0) continue;
      const auto& r = dets_[d].ray;
      const Eigen::Matrix3d P = Eigen::Matrix3d::Identity() - r.direction * r.direction.transpose();
      A += P;
      b += P * r.origin;
      ++n;
    }
    if (n < 2) return std::nullopt;
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig(A);
    const double min_sin = std::sin(std::max(o_.rays.min_ray_angle_deg, 1.0) * kPi / 180.0);
    if (eig.eigenvalues().minCoeff() < 0.25 * min_sin * min_sin) return std::nullopt;  // rays (nearly) parallel
    const Eigen::Vector3d p = A.ldlt().solve(b);
    if (!p.allFinite() || !o_.scene.contains(p)) return std::nullopt;

    Eigen::Matrix3d M = Eigen::Matrix3d::Zero();
    Eigen::Vector3d rhs = Eigen::Vector3d::Zero();
    double mean = 0;
    for (int d : m) {
      if (d < 0) continue;
      const Det& det = dets_[d];
      const core::Camera& c = cam(det.view);
      const double z = c.depth(p);
      if (z <= 0) return std::nullopt;
      const Eigen::Vector3d ax = c.rotation().row(0).transpose().cwiseAbs();
      const Eigen::Vector3d ay = c.rotation().row(1).transpose().cwiseAbs();
      const double w = det.w * z / c.intrinsics().fx, h = det.h * z / c.intrinsics().fy;
      M += ax * ax.transpose() + ay * ay.transpose();
      rhs += ax * w + ay * h;
      mean += 0.5 * (w + h) / n;
    }
    // A light pull toward the mean extent keeps axes that no view resolves (e.g. a frontal + lateral pair) sized.
    const double ridge = 1e-3 * n;
    M += ridge * Eigen::Matrix3d::Identity();
    rhs += ridge * Eigen::Vector3d::Constant(mean);
    core::Box3D box;
    box.center = p;
    box.size = M.ldlt().solve(rhs).cwiseMax(o_.min_size_mm);
    if (!box.size.allFinite()) return std::nullopt;
    return box;
  }

  struct FitView {
    const core::Camera* camera;
    core::Box2D observed;
    double mm_per_px_x, mm_per_px_y;  // at the initial depth: residuals in mm weigh views of any resolution alike
  };

  // Residuals (projected minus observed box edges, mm) of box x = (centre, log size) and their Jacobian.
  static bool residuals(const Eigen::Matrix<double, 6, 1>& x, const std::vector<FitView>& fv, Eigen::VectorXd& r,
                        Eigen::MatrixXd* J) {
    const Eigen::Vector3d c = x.head<3>();
    const Eigen::Vector3d s = x.tail<3>().array().exp();
    r.resize(4 * static_cast<Eigen::Index>(fv.size()));
    if (J) J->setZero(r.size(), 6);
    for (std::size_t v = 0; v < fv.size(); ++v) {
      const core::Camera& camera = *fv[v].camera;
      const auto& k = camera.intrinsics();
      const Eigen::Matrix3d& R = camera.rotation();
      double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
      Eigen::Matrix<double, 1, 6> g_lo[2], g_hi[2];
      for (int corner = 0; corner < 8; ++corner) {
        const Eigen::Vector3d sign((corner & 1) ? 1.0 : -1.0, (corner & 2) ? 1.0 : -1.0, (corner & 4) ? 1.0 : -1.0);
        const Eigen::Vector3d p = c + 0.5 * sign.cwiseProduct(s);
        const Eigen::Vector3d q = camera.to_camera(p);
        if (q.z() <= 1e-6) return false;  // as project_box: a box reaching the source plane has no image
        const double uv[2] = {k.fx * q.x() / q.z() + k.cx, k.fy * q.y() / q.z() + k.cy};
        for (int a = 0; a < 2; ++a) {
          const bool is_lo = uv[a]<lo[a], is_hi = uv[a]> hi[a];
          if (!is_lo && !is_hi) continue;
          Eigen::Matrix<double, 1, 6> g;
          if (J) {
            const double f = a == 0 ? k.fx : k.fy;
            const Eigen::RowVector3d dp = f / q.z() * (R.row(a) - (q[a] / q.z()) * R.row(2));
            g.head<3>() = dp;
            g.tail<3>() = dp.cwiseProduct((0.5 * sign.cwiseProduct(s)).transpose());
          }
          if (is_lo) {
            lo[a] = uv[a];
            g_lo[a] = g;
          }
          if (is_hi) {
            hi[a] = uv[a];
            g_hi[a] = g;
          }
        }
      }
      const double size[2] = {static_cast<double>(k.width), static_cast<double>(k.height)};
      const double obs[4] = {fv[v].observed.x0, fv[v].observed.y0, fv[v].observed.x1, fv[v].observed.y1};
      const double scale[2] = {fv[v].mm_per_px_x, fv[v].mm_per_px_y};
      for (int e = 0; e < 4; ++e) {  // x0, y0, x1, y1
        const int a = e % 2;
        const double raw = e < 2 ? lo[a] : hi[a];
        const double clipped = std::clamp(raw, 0.0, size[a]);  // as Box2D::clipped: an edge past the border is fixed
        const Eigen::Index row = 4 * static_cast<Eigen::Index>(v) + e;
        r[row] = scale[a] * (clipped - obs[e]);
        if (J && clipped == raw) J->row(row) = scale[a] * (e < 2 ? g_lo[a] : g_hi[a]);
      }
    }
    return r.allFinite();
  }

  // Levenberg-Marquardt from `init`; returns init when the fit cannot start.
  core::Box3D fit(const Members& m, const core::Box3D& init) const {
    std::vector<FitView> fv;
    for (int d : m) {
      if (d < 0) continue;
      const core::Camera& c = cam(dets_[d].view);
      const double z = std::max(c.depth(init.center), 1e-3);
      fv.push_back(FitView{&c, dets_[d].box, z / c.intrinsics().fx, z / c.intrinsics().fy});
    }
    Eigen::Matrix<double, 6, 1> x;
    x.head<3>() = init.center;
    x.tail<3>() = init.size.cwiseMax(o_.min_size_mm).array().log();
    Eigen::VectorXd r, r_new;
    Eigen::MatrixXd J, J_new;
    if (!residuals(x, fv, r, &J)) return init;
    double cost = r.squaredNorm(), lambda = 1e-3;
    for (int it = 0; it < 100 && cost > 1e-20; ++it) {
      const Eigen::Matrix<double, 6, 6> H = J.transpose() * J;
      const Eigen::Matrix<double, 6, 1> g = J.transpose() * r;
      bool stepped = false;
      Eigen::Matrix<double, 6, 1> delta;
      while (lambda < 1e10) {
        Eigen::Matrix<double, 6, 6> A = H;
        A.diagonal() += lambda * (H.diagonal().array() + 1e-9).matrix();
        delta = -A.ldlt().solve(g);
        const Eigen::Matrix<double, 6, 1> x_new = x + delta;
        if (delta.allFinite() && residuals(x_new, fv, r_new, &J_new) && r_new.squaredNorm() < cost) {
          x = x_new;
          r.swap(r_new);
          J.swap(J_new);
          cost = r.squaredNorm();
          lambda = std::max(lambda / 4.0, 1e-12);
          stepped = true;
          break;
        }
        lambda *= 4.0;
      }
      if (!stepped || delta.norm() < 1e-10) break;
    }
    core::Box3D box;
    box.center = x.head<3>();
    box.size = x.tail<3>().array().exp().max(o_.min_size_mm).matrix();
    return box;
  }

  std::optional<core::Box3D> solve(const Members& m, const core::Box3D* previous) const {
    std::optional<core::Box3D> box;
    if (previous && o_.fit_box) {
      box = *previous;
    } else {
      box = linear_box(m);
      if (!box) return std::nullopt;
    }
    if (o_.fit_box) box = fit(m, *box);
    if (!box->center.allFinite() || !box->size.allFinite() || !o_.scene.contains(box->center)) return std::nullopt;
    for (int d : m)
      if (d >= 0 && cam(dets_[d].view).depth(box->center) <= 0) return std::nullopt;
    return box;
  }

  // Sum of member scores over the views that see the box (a view that sees it but has no member counts 0).
  double score(const Members& m, const core::Box3D& box) const {
    double sum = 0;
    int visible = 0;
    for (std::size_t v = 0; v < views_.size(); ++v) {
      if (m[v] >= 0) sum += dets_[m[v]].score;
      if (core::project_box(cam(static_cast<int>(v)), box).visible) ++visible;
    }
    return std::clamp(sum / std::max(visible, member_count(m)), 0.0, 1.0);
  }

  // How far the member's box edges lie from the box's projection, mm at the box's depth (largest edge).
  double edge_error_mm(int d, const core::Box3D& box) const {
    const Det& det = dets_[d];
    const core::Camera& c = cam(det.view);
    const auto pb = core::project_box(c, box);
    if (!pb.visible) return std::numeric_limits<double>::infinity();
    const double z = pb.center_depth;
    const double ex = std::max(std::abs(pb.box.x0 - det.box.x0), std::abs(pb.box.x1 - det.box.x1));
    const double ey = std::max(std::abs(pb.box.y0 - det.box.y0), std::abs(pb.box.y1 - det.box.y1));
    return std::max(ex * z / c.intrinsics().fx, ey * z / c.intrinsics().fy);
  }

  // A cluster whose members' median edge error exceeds max_edge_error_mm + max_edge_error_px (at each member's
  // pixel scale) is no consistent 3D box: chance alignments of false positives fit their boxes far worse.
  bool consistent(const Members& m, const core::Box3D& box) const {
    if (!o_.fit_box) return member_count(m) >= o_.min_views;  // an unfitted box misses its members by design
    std::vector<double> excess;
    for (int d : m) {
      if (d < 0) continue;
      const core::Camera& c = cam(dets_[d].view);
      const double mm_per_px = std::max(c.depth(box.center), 0.0) / std::min(c.intrinsics().fx, c.intrinsics().fy);
      excess.push_back(edge_error_mm(d, box) / (o_.max_edge_error_mm + o_.max_edge_error_px * mm_per_px));
    }
    if (excess.empty()) return false;
    std::nth_element(excess.begin(), excess.begin() + excess.size() / 2, excess.end());
    return excess[excess.size() / 2] <= 1.0;
  }

  // Drops, one at a time, the member that the box fitted to the other members misses by more than
  // outlier_edge_mm + 3 x the others' median edge error (a neighbouring nodule's box taken in a view where this
  // nodule has none). Dropped detections go to `banned`.
  void trim_outliers(Members& m, core::Box3D& box, std::vector<int>& banned) const {
    while (o_.fit_box && member_count(m) > o_.min_views) {
      int worst = -1;
      double worst_err = 0;
      for (int d : m) {
        if (d < 0) continue;
        const double e = edge_error_mm(d, box);
        if (worst < 0 || e > worst_err) {
          worst = d;
          worst_err = e;
        }
      }
      if (worst_err <= o_.outlier_edge_mm) return;
      Members others = m;
      others[dets_[worst].view] = -1;
      const auto refit = solve(others, &box);
      if (!refit) return;
      std::vector<double> errors;
      for (int d : others)
        if (d >= 0) errors.push_back(edge_error_mm(d, *refit));
      std::nth_element(errors.begin(), errors.begin() + errors.size() / 2, errors.end());
      const double median = errors[errors.size() / 2];  // robust to further outliers among the others
      if (edge_error_mm(worst, *refit) <= o_.outlier_edge_mm + 3.0 * median) return;
      m = std::move(others);
      box = *refit;
      banned.push_back(worst);
    }
  }

  std::optional<Cluster> grow(const Eigen::Vector3d& seed) const {
    Members m = associate_point(seed);
    std::optional<core::Box3D> box;
    std::vector<int> banned;
    for (int it = 0;; ++it) {
      if (member_count(m) < o_.min_views) return std::nullopt;
      box = solve(m, box ? &*box : nullptr);
      if (!box) return std::nullopt;
      trim_outliers(m, *box, banned);
      if (it + 1 >= o_.max_iterations) break;
      Members next = associate_box(*box, banned);
      if (next == m) break;
      m = std::move(next);
    }
    if (!consistent(m, *box)) return std::nullopt;
    Cluster c;
    c.members = std::move(m);
    c.box = *box;
    c.count = member_count(c.members);
    c.score = score(c.members, c.box);
    return c;
  }

  std::vector<core::BoxRecord> select(std::vector<Cluster> found) const {
    auto better = [](const Cluster& a, const Cluster& b) {
      if (a.score != b.score) return a.score > b.score;
      if (a.count != b.count) return a.count > b.count;
      return a.members < b.members;
    };
    std::sort(found.begin(), found.end(), better);
    // Duplicates: clusters of one nodule grown from different seeds overlap in 3D; keep the best.
    std::vector<Cluster> kept = distinct(std::move(found));
    // Shared detections: each goes to the box whose projection it matches best (smallest edge error; ties to the
    // better cluster), not to the best-scoring cluster: where two nodules overlap in a view and one has no box
    // there, the other's box joins both clusters and only fits its own. Clusters that lose members are refitted
    // (without re-association) and dropped below min_views; a few rounds settle the ownership.
    const std::vector<Members> candidates = [&] {
      std::vector<Members> c;
      for (const auto& k : kept) c.push_back(k.members);
      return c;
    }();
    std::vector<char> alive(kept.size(), 1);
    for (int round = 0; round < 4; ++round) {
      std::vector<int> owner(dets_.size(), -1);
      std::vector<double> owner_error(dets_.size(), 0.0);
      for (std::size_t k = 0; k < kept.size(); ++k) {
        if (!alive[k]) continue;
        for (int d : candidates[k]) {
          if (d < 0) continue;
          const double e = edge_error_mm(d, kept[k].box);
          if (owner[d] < 0 || e < owner_error[d]) {
            owner[d] = static_cast<int>(k);
            owner_error[d] = e;
          }
        }
      }
      bool changed = false;
      for (std::size_t k = 0; k < kept.size(); ++k) {
        if (!alive[k]) continue;
        Members m = candidates[k];
        for (int& d : m)
          if (d >= 0 && owner[d] != static_cast<int>(k)) d = -1;
        if (m == kept[k].members) continue;
        changed = true;
        auto box = member_count(m) >= o_.min_views ? solve(m, &kept[k].box) : std::nullopt;
        if (box && !consistent(m, *box)) box.reset();
        if (!box) {
          alive[k] = 0;
          continue;
        }
        kept[k].members = std::move(m);
        kept[k].box = *box;
        kept[k].count = member_count(kept[k].members);
        kept[k].score = score(kept[k].members, kept[k].box);
      }
      if (!changed) break;
    }
    std::vector<Cluster> survivors;
    for (std::size_t k = 0; k < kept.size(); ++k)
      if (alive[k]) survivors.push_back(std::move(kept[k]));
    std::sort(survivors.begin(), survivors.end(), better);
    kept = distinct(std::move(survivors));  // refitted boxes may have come to overlap
    std::stable_sort(kept.begin(), kept.end(), [](const Cluster& a, const Cluster& b) { return a.score > b.score; });
    std::vector<core::BoxRecord> out;
    for (const Cluster& c : kept) {
      if (c.score < o_.min_score) continue;
      core::BoxRecord r;
      r.box = c.box;
      r.score = c.score;
      r.source = core::BoxSource::kPrediction;
      r.id = core::cat("tri", out.size());
      out.push_back(std::move(r));
    }
    return out;
  }

  const std::vector<ViewDetections>& views_;
  const TriangulateOptions& o_;
  std::vector<Det> dets_;
  std::vector<std::vector<int>> by_view_;
};

}  // namespace

void TriangulateOptions::validate() const {
  auto fail = [](const std::string& what) { throw core::ConfigError("triangulate option " + what); };
  if (min_views < 2) fail(core::cat("min_views = ", min_views, ", expected >= 2"));
  rays.validate("triangulate option");
  if (!(std::isfinite(max_size_ratio) && max_size_ratio >= 1))
    fail(core::cat("max_size_ratio = ", max_size_ratio, ", expected a finite value >= 1"));
  if (!(min_detection_score >= 0 && min_detection_score <= 1))
    fail(core::cat("min_detection_score = ", min_detection_score, ", expected 0 .. 1"));
  if (max_iterations < 1) fail(core::cat("max_iterations = ", max_iterations, ", expected >= 1"));
  if (!(std::isfinite(outlier_edge_mm) && outlier_edge_mm > 0))
    fail(core::cat("outlier_edge_mm = ", outlier_edge_mm, ", expected a finite value > 0 (mm)"));
  if (!(std::isfinite(max_edge_error_mm) && max_edge_error_mm >= 0 && std::isfinite(max_edge_error_px) &&
        max_edge_error_px >= 0 && max_edge_error_mm + max_edge_error_px > 0))
    fail(core::cat("max_edge_error_mm = ", max_edge_error_mm, " and max_edge_error_px = ", max_edge_error_px,
                   ", expected finite values >= 0, not both 0"));
  if (!(std::isfinite(min_size_mm) && min_size_mm > 0))
    fail(core::cat("min_size_mm = ", min_size_mm, ", expected a finite value > 0 (mm)"));
  if (!(merge_iou >= 0 && merge_iou <= 1)) fail(core::cat("merge_iou = ", merge_iou, ", expected 0 .. 1"));
  if (!(min_score >= 0 && min_score <= 1)) fail(core::cat("min_score = ", min_score, ", expected 0 .. 1"));
  try {
    scene.validate("scene");
  } catch (const core::InputError& e) {
    fail(e.what());
  }
}

namespace {
constexpr const char* kKeys[] = {"min_views",
                                 "max_ray_distance_mm",
                                 "ray_distance_fraction",
                                 "min_ray_angle_deg",
                                 "max_size_ratio",
                                 "min_detection_score",
                                 "max_iterations",
                                 "fit_box",
                                 "outlier_edge_mm",
                                 "max_edge_error_mm",
                                 "max_edge_error_px",
                                 "min_size_mm",
                                 "merge_iou",
                                 "min_score"};
}  // namespace

TriangulateOptions TriangulateOptions::from_config(const core::Config& c, const SceneRange& scene) {
  TriangulateOptions o;
  o.min_views = c.get("min_views", o.min_views);
  o.rays.read(c);
  o.max_size_ratio = c.get("max_size_ratio", o.max_size_ratio);
  o.min_detection_score = c.get("min_detection_score", o.min_detection_score);
  o.max_iterations = c.get("max_iterations", o.max_iterations);
  o.fit_box = c.get("fit_box", o.fit_box);
  o.outlier_edge_mm = c.get("outlier_edge_mm", o.outlier_edge_mm);
  o.max_edge_error_mm = c.get("max_edge_error_mm", o.max_edge_error_mm);
  o.max_edge_error_px = c.get("max_edge_error_px", o.max_edge_error_px);
  o.min_size_mm = c.get("min_size_mm", o.min_size_mm);
  o.merge_iou = c.get("merge_iou", o.merge_iou);
  o.min_score = c.get("min_score", o.min_score);
  o.scene = scene;
  // Typos inside this section fail here, whether or not the command checks the whole config afterwards.
  c.check_section_keys(std::vector<std::string>(std::begin(kKeys), std::end(kKeys)));
  try {
    o.validate();
  } catch (const core::ConfigError& e) {
    std::string origin = "defaults";
    for (const char* key : kKeys)
      if (origin == "defaults" && c.has(key)) origin = c.origin(key);
    const std::string section = c.full_key("");
    throw core::ConfigError(core::cat("config section '",
                                      section.empty() ? "triangulate" : section.substr(0, section.size() - 1),
                                      "' (from ", origin, "): ", e.what()));
  }
  return o;
}

std::vector<core::BoxRecord> triangulate(const std::vector<ViewDetections>& views, const TriangulateOptions& options) {
  options.validate();
  XL_CHECK(views.size() >= 2, "triangulate: ", views.size(), " view", views.size() == 1 ? "" : "s",
           " given; expected at least 2 (triangulation needs rays from different sources)");
  XL_CHECK(static_cast<int>(views.size()) >= options.min_views, "triangulate: ", views.size(),
           " views given but min_views is ", options.min_views);
  for (std::size_t v = 0; v < views.size(); ++v) {
    const auto& cam = views[v].camera;
    const std::string where =
        core::cat("triangulate: views[", v, "]", cam.name().empty() ? "" : " ('" + cam.name() + "')");
    XL_CHECK(cam.width() > 0 && cam.height() > 0 && cam.intrinsics().fx > 0 && cam.intrinsics().fy > 0, where,
             ": has no camera (image size ", cam.width(), " x ", cam.height(), ", fx ", cam.intrinsics().fx, ")");
    views[v].validate(where);
  }
  return Triangulator(views, options).run();
}

}  // namespace xraylift::detect3d
