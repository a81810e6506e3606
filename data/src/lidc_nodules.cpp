// From readers' marks to physical nodules: rois -> slices (SOP UID, then z) -> voxel masks -> groups -> consensus.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

#include "xraylift/data/contour.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/data/lidc.hpp"

namespace xraylift::data {

std::string LidcNodule::texture() const {
  std::vector<int> ratings;
  for (const auto& [reader, c] : characteristics)
    if (c.texture >= 1 && c.texture <= 5) ratings.push_back(c.texture);
  if (ratings.empty()) return "";
  std::sort(ratings.begin(), ratings.end());
  const std::size_t n = ratings.size();
  const double median = 0.5 * (ratings[(n - 1) / 2] + ratings[n / 2]);
  return median <= 2 ? "ground-glass" : (median < 4 ? "part-solid" : "solid");
}

core::BoxRecord LidcNodule::record() const {
  core::BoxRecord r;
  r.box = box;
  r.id = id;
  r.readers = readers;
  r.diameter_mm = diameter_mm;
  r.ignore = ignore;
  r.sized = !small;
  r.label = "nodule";
  r.texture = texture();
  return r;
}

nlohmann::json LidcNodule::to_json() const {
  nlohmann::json rb = nlohmann::json::array();
  for (const auto& b : reader_boxes)
    rb.push_back({{"reader", b.reader + 1},
                  {"nodule_id", b.nodule_id},
                  {"center_mm", {b.box.center.x(), b.box.center.y(), b.box.center.z()}},
                  {"size_mm", {b.box.size.x(), b.box.size.y(), b.box.size.z()}},
                  {"voxels", b.voxels},
                  {"single_point", b.single_point},
                  {"diameter_mm", b.diameter_mm}});
  nlohmann::json ch = nlohmann::json::array();
  for (const auto& [reader, c] : characteristics) {
    auto j = c.to_json();
    j["reader"] = reader + 1;
    ch.push_back(j);
  }
  return {{"id", id},
          {"readers", readers},
          {"point_readers", point_readers},
          {"center_mm", {center_mm.x(), center_mm.y(), center_mm.z()}},
          {"diameter_mm", diameter_mm},
          {"equivalent_diameter_mm", equivalent_diameter_mm},
          {"volume_mm3", volume_mm3},
          {"small", small},
          {"ignore", ignore},
          {"reader_boxes", rb},
          {"characteristics", ch}};
}

std::vector<core::BoxRecord> LidcNoduleResult::boxes() const {
  std::vector<core::BoxRecord> out;
  for (const auto& n : nodules) out.push_back(n.record());
  out.insert(out.end(), non_nodules.begin(), non_nodules.end());
  return out;
}

namespace {

struct MarkMask {
  const LidcMark* mark = nullptr;
  std::vector<std::int64_t> voxels;          // sorted linear indices
  std::vector<Eigen::Vector3d> boundary_mm;  // world centres of boundary voxels (distance computations)
  Eigen::Vector3d lo, hi;                    // world bbox of voxel centres
};

class Rasterizer {
 public:
  Rasterizer(const DicomSeries& s, bool include_contour_points, std::vector<std::string>& warnings)
      : s_(s), include_contour_points_(include_contour_points), warnings_(warnings) {
    for (const auto& sl : s.slices) by_sop_[sl.sop_uid] = sl.z_mm;
    tol_z_ = 0.5 * s.hu.spacing()[s.normal_axis] + 1e-3;
  }

  // z of a roi's slice: SOP UID first, z second; nullopt (and a warning) when neither matches.
  std::optional<double> slice_z(const std::string& sop, double z, const std::string& what) {
    const auto it = by_sop_.find(sop);
    if (it != by_sop_.end()) return it->second;
    double best = std::numeric_limits<double>::infinity(), best_z = 0;
    for (const auto& sl : s_.slices)
      if (std::abs(sl.z_mm - z) < best) {
        best = std::abs(sl.z_mm - z);
        best_z = sl.z_mm;
      }
    if (best <= tol_z_) return best_z;
    warnings_.push_back(core::cat(what, " refers to an unknown slice (SOP UID '", sop, "', z ", z, " mm): ignored"));
    return std::nullopt;
  }

  Eigen::Vector3d index_of(double col, double row, double z) const {
    return s_.hu.world_to_index(dicom_pixel_to_world(s_, col, row, z));
  }

  // Inclusion rois give the pixel centres strictly inside their outline (plus the outline itself with
  // include_contour_points, or when nothing is strictly inside); exclusion rois remove theirs, outline
  // included (pylidc). A single-point roi is that point.
  MarkMask rasterize(const LidcMark& m, const std::string& origin) {
    MarkMask out = rasterize_with(m, origin, include_contour_points_ || m.single_point());
    if (out.voxels.empty() && !include_contour_points_ && !m.single_point()) {
      const std::size_t said = warnings_.size();
      out = rasterize_with(m, origin, true);
      warnings_.resize(said);  // the same roi warnings again
      if (!out.voxels.empty())
        warnings_.push_back(core::cat(origin, ": reader ", m.reader + 1, " nodule '", m.nodule_id,
                                      "': no pixel lies strictly inside its outlines; its contour points are used"));
    }
    return out;
  }

  MarkMask rasterize_with(const LidcMark& m, const std::string& origin, bool contour_points) {
    MarkMask out;
    out.mark = &m;
    const auto& g = s_.hu.geometry();
    const int na = s_.normal_axis, a0 = (na + 1) % 3, a1 = (na + 2) % 3;
    std::set<std::int64_t> include, exclude;
    for (std::size_t r = 0; r < m.rois.size(); ++r) {
      const auto& roi = m.rois[r];
      const std::string what = core::cat(origin, ": reader ", m.reader + 1, " nodule '", m.nodule_id, "' roi ", r + 1);
      const auto z = slice_z(roi.sop_uid, roi.z_mm, what);
      if (!z) continue;
      std::vector<Eigen::Vector2d> poly;
      Eigen::Vector2d lo(1e18, 1e18), hi(-1e18, -1e18);
      int k = -1;
      for (const auto& e : roi.edge) {
        const Eigen::Vector3d idx = index_of(e.x(), e.y(), *z);
        k = static_cast<int>(std::lround(idx[na]));
        poly.emplace_back(idx[a0], idx[a1]);
        lo = lo.cwiseMin(poly.back());
        hi = hi.cwiseMax(poly.back());
      }
      if (k < 0 || k >= g.dims[na]) {
        warnings_.push_back(core::cat(what, " lies outside the volume: ignored"));
        continue;
      }
      auto& target = roi.inclusion ? include : exclude;
      for (int v1 = std::max(0, int(std::ceil(lo.y() - 1e-6)));
           v1 <= std::min(g.dims[a1] - 1, int(std::floor(hi.y() + 1e-6))); ++v1)
        for (int v0 = std::max(0, int(std::ceil(lo.x() - 1e-6)));
             v0 <= std::min(g.dims[a0] - 1, int(std::floor(hi.x() + 1e-6))); ++v0) {
          const Eigen::Vector2d q(v0, v1);
          const bool with_outline = contour_points || !roi.inclusion;
          if (!(with_outline ? outline_contains(poly, q) : outline_strictly_contains(poly, q))) continue;
          int ijk[3];
          ijk[na] = k;
          ijk[a0] = v0;
          ijk[a1] = v1;
          target.insert(s_.hu.linear(ijk[0], ijk[1], ijk[2]));
        }
    }
    for (auto v : include)
      if (!exclude.count(v)) out.voxels.push_back(v);
    out.lo = Eigen::Vector3d::Constant(1e18);
    out.hi = Eigen::Vector3d::Constant(-1e18);
    const std::set<std::int64_t> in_set(out.voxels.begin(), out.voxels.end());
    for (auto v : out.voxels) {
      const Eigen::Vector3i ijk = unlinear(v);
      const Eigen::Vector3d p = g.index_to_world(ijk.cast<double>());
      out.lo = out.lo.cwiseMin(p);
      out.hi = out.hi.cwiseMax(p);
      bool boundary = false;
      for (int a = 0; a < 3 && !boundary; ++a)
        for (int d = -1; d <= 1 && !boundary; d += 2) {
          Eigen::Vector3i q = ijk;
          q[a] += d;
          boundary = !s_.hu.in_bounds(q.x(), q.y(), q.z()) || !in_set.count(s_.hu.linear(q.x(), q.y(), q.z()));
        }
      if (boundary) out.boundary_mm.push_back(p);
    }
    return out;
  }

  Eigen::Vector3i unlinear(std::int64_t v) const {
    const auto& d = s_.hu.dims();
    return {int(v % d.x()), int((v / d.x()) % d.y()), int(v / (std::int64_t(d.x()) * d.y()))};
  }

 private:
  const DicomSeries& s_;
  bool include_contour_points_ = false;
  std::vector<std::string>& warnings_;
  std::unordered_map<std::string, double> by_sop_;
  double tol_z_ = 0;
};

// pylidc's Annotation.diameter: over the mark's contours (of two or more points), the longest distance between
// two points of one contour, with the pixel spacing (columns x column spacing, rows x row spacing).
double pylidc_diameter(const LidcMark& m, const DicomSeries& s) {
  const double col_mm = s.pixel_spacing_mm[1], row_mm = s.pixel_spacing_mm[0];
  double best = 0;
  for (const auto& roi : m.rois) {
    if (roi.edge.size() < 2) continue;
    for (std::size_t i = 0; i < roi.edge.size(); ++i)
      for (std::size_t j = i + 1; j < roi.edge.size(); ++j) {
        const Eigen::Vector2d d = roi.edge[i] - roi.edge[j];
        best = std::max(best, std::hypot(d.x() * col_mm, d.y() * row_mm));
      }
  }
  return best;
}

double mask_distance(const MarkMask& a, const MarkMask& b, double stop_below) {
  const Eigen::Vector3d gap = (a.lo - b.hi).cwiseMax(b.lo - a.hi).cwiseMax(0.0);
  if (gap.norm() > stop_below + 1e-9 && gap.norm() > 0) return gap.norm();  // a lower bound, enough to reject
  std::vector<std::int64_t> common;
  std::set_intersection(a.voxels.begin(), a.voxels.end(), b.voxels.begin(), b.voxels.end(), std::back_inserter(common));
  if (!common.empty()) return 0.0;
  double best = std::numeric_limits<double>::infinity();
  for (const auto& p : a.boundary_mm)
    for (const auto& q : b.boundary_mm) best = std::min(best, (p - q).squaredNorm());
  return std::sqrt(best);
}

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(int n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); }
  void unite(int a, int b) { parent[find(a)] = find(b); }
};

}  // namespace

LidcNoduleResult group_lidc_nodules(const LidcAnnotations& a, const DicomSeries& series, const LidcNoduleOptions& o) {
  XL_CHECK(!series.hu.empty(), a.file, ": group_lidc_nodules needs the series volume");
  XL_CHECK(o.consensus_level > 0 && o.consensus_level <= 1, "LIDC options: consensus_level = ", o.consensus_level,
           ", expected (0, 1]");
  XL_CHECK(std::isfinite(o.unsized_diameter_mm) && o.unsized_diameter_mm > 0,
           "LIDC options: unsized_diameter_mm = ", o.unsized_diameter_mm, ", expected a finite value > 0");
  LidcNoduleResult res;
  res.warnings = a.warnings;
  if (!a.series_uid.empty() && !series.series_uid.empty() && a.series_uid != series.series_uid)
    res.warnings.push_back(core::cat(a.file, ": annotations are for series ", a.series_uid,
                                     " but the volume is series ", series.series_uid, "; matching rois by z only"));
  const auto& g = series.hu.geometry();
  Rasterizer rast(series, o.include_contour_points, res.warnings);
  std::vector<MarkMask> masks;
  for (const auto& m : a.marks) {
    MarkMask mm = rast.rasterize(m, a.file);
    if (mm.voxels.empty()) {
      res.warnings.push_back(core::cat(a.file, ": reader ", m.reader + 1, " nodule '", m.nodule_id,
                                       "' has no voxel on a known slice: ignored"));
      continue;
    }
    masks.push_back(std::move(mm));
  }

  // Pairwise distances, then the largest tolerance (shrinking) that gives groups of <= 4 marks, one per reader.
  const int n = static_cast<int>(masks.size());
  const double tol0 = o.join_tolerance_mm > 0 ? o.join_tolerance_mm : g.spacing.maxCoeff();
  const double reach = tol0 + o.point_allowance_mm;
  std::vector<double> dist(std::size_t(n) * n, std::numeric_limits<double>::infinity());
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) dist[i * n + j] = dist[j * n + i] = mask_distance(masks[i], masks[j], reach);
  auto allowance = [&](int i, int j) {
    return (masks[i].mark->single_point() || masks[j].mark->single_point()) ? o.point_allowance_mm : 0.0;
  };
  std::vector<int> group_of(n);
  for (double tol = tol0;; tol *= 0.8) {
    UnionFind uf(n);
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        if (dist[i * n + j] <= tol + allowance(i, j) + 1e-9) uf.unite(i, j);
    std::map<int, std::vector<int>> groups;
    for (int i = 0; i < n; ++i) groups[uf.find(i)].push_back(i);
    bool ok = true;
    for (const auto& [root, members] : groups) {
      std::set<int> readers;
      for (int m : members) readers.insert(masks[m].mark->reader);
      if (members.size() > 4 || readers.size() != members.size()) ok = false;
    }
    for (int i = 0; i < n; ++i) group_of[i] = uf.find(i);
    if (ok) break;
    if (tol < 0.05) {
      res.warnings.push_back(
          core::cat(a.file, ": some nodule groups keep two marks of one reader even at a 0.05 mm tolerance"));
      break;
    }
  }

  std::map<int, std::vector<int>> groups;
  for (int i = 0; i < n; ++i) groups[group_of[i]].push_back(i);
  const double voxel_mm3 = g.spacing.prod();
  for (const auto& [root, members] : groups) {
    LidcNodule nod;
    std::set<int> readers, contour_readers;
    double diameter_sum = 0;
    int contour_marks = 0;
    std::map<std::int64_t, std::set<int>> votes;
    Eigen::Vector3d point_sum = Eigen::Vector3d::Zero();
    int points = 0;
    for (int m : members) {
      const auto& mm = masks[m];
      readers.insert(mm.mark->reader);
      LidcReaderBox rb;
      rb.reader = mm.mark->reader;
      rb.nodule_id = mm.mark->nodule_id;
      rb.box = core::Box3D::from_min_max(mm.lo - 0.5 * g.spacing, mm.hi + 0.5 * g.spacing);
      rb.voxels = static_cast<int>(mm.voxels.size());
      rb.single_point = mm.mark->single_point();
      if (mm.mark->characteristics) nod.characteristics.emplace_back(mm.mark->reader, *mm.mark->characteristics);
      if (rb.single_point) {
        point_sum += 0.5 * (mm.lo + mm.hi);
        ++points;
        nod.reader_boxes.push_back(rb);
        continue;
      }
      rb.diameter_mm = pylidc_diameter(*mm.mark, series);
      diameter_sum += rb.diameter_mm;
      ++contour_marks;
      nod.reader_boxes.push_back(rb);
      contour_readers.insert(mm.mark->reader);
      for (auto v : mm.voxels) votes[v].insert(mm.mark->reader);
    }
    // LUNA16's "accepted by 3 of 4 readers" counts readers who marked the nodule as >= 3 mm (a contour).
    nod.readers = static_cast<int>(contour_readers.size());
    nod.point_readers = static_cast<int>(readers.size() - contour_readers.size());
    if (contour_readers.empty()) {
      nod.small = true;
      nod.center_mm = point_sum / points;
      nod.box = core::Box3D{nod.center_mm, Eigen::Vector3d::Constant(o.unsized_diameter_mm)};
      nod.diameter_mm = 0;
    } else {
      const double need = o.consensus_level * double(contour_readers.size()) - 1e-9;
      for (const auto& [v, who] : votes)
        if (double(who.size()) >= need) nod.consensus_voxels.push_back(v);
      if (nod.consensus_voxels.empty()) {
        res.warnings.push_back(core::cat(a.file, ": a nodule's marks do not overlap at ", o.consensus_level * 100,
                                         " % agreement; its consensus is the union of the marks"));
        for (const auto& [v, who] : votes) nod.consensus_voxels.push_back(v);
      }
      Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e18), hi = -lo, sum = Eigen::Vector3d::Zero();
      for (auto v : nod.consensus_voxels) {
        const Eigen::Vector3i ijk = rast.unlinear(v);
        const Eigen::Vector3d p = g.index_to_world(ijk.cast<double>());
        lo = lo.cwiseMin(p);
        hi = hi.cwiseMax(p);
        sum += p;
      }
      nod.box = core::Box3D::from_min_max(lo - 0.5 * g.spacing, hi + 0.5 * g.spacing);
      nod.center_mm = sum / double(nod.consensus_voxels.size());
      nod.volume_mm3 = voxel_mm3 * double(nod.consensus_voxels.size());
      nod.equivalent_diameter_mm = std::cbrt(6.0 * nod.volume_mm3 / M_PI);
      // pylidc's diameter per contouring reader, averaged (as LUNA16 averages its readers' diameters).
      nod.diameter_mm = diameter_sum / double(contour_marks);
    }
    nod.ignore = nod.small || nod.diameter_mm < o.min_diameter_mm || nod.readers < o.min_readers;
    res.nodules.push_back(std::move(nod));
  }
  std::sort(res.nodules.begin(), res.nodules.end(), [](const LidcNodule& x, const LidcNodule& y) {
    return x.center_mm.z() != y.center_mm.z() ? x.center_mm.z() < y.center_mm.z() : x.center_mm.x() < y.center_mm.x();
  });
  for (std::size_t i = 0; i < res.nodules.size(); ++i) res.nodules[i].id = core::cat("N", i + 1);

  int nn_count = 0;
  for (const auto& nn : a.non_nodules) {
    const std::string what = core::cat(a.file, ": reader ", nn.reader + 1, " nonNodule '", nn.id, "'");
    const auto z = rast.slice_z(nn.sop_uid, nn.z_mm, what);
    if (!z) continue;
    core::BoxRecord r;
    r.box = core::Box3D{dicom_pixel_to_world(series, nn.locus.x(), nn.locus.y(), *z),
                        Eigen::Vector3d::Constant(o.unsized_diameter_mm)};
    r.label = "non-nodule";
    r.ignore = true;
    r.sized = false;
    r.readers = 0;  // nobody contoured it
    r.id = core::cat("NN", ++nn_count);
    res.non_nodules.push_back(r);
  }
  return res;
}

}  // namespace xraylift::data
