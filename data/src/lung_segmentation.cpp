#include "xraylift/data/lung_segmentation.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <numeric>

#include "xraylift/core/error.hpp"
#include "xraylift/core/log.hpp"

namespace xraylift::data {
namespace {

using Mask = std::vector<std::uint8_t>;

// Flood fill over `passable` pixels of axial slice k from every border pixel of the slice; marks `reached`.
void flood_slice_from_border(const Eigen::Vector3i& n, int k, const Mask& passable, Mask& reached) {
  const std::int64_t base = std::int64_t(n.x()) * n.y() * k;
  std::vector<int> stack;
  auto seed = [&](int i, int j) {
    const std::int64_t p = base + i + std::int64_t(n.x()) * j;
    if (passable[p] && !reached[p]) {
      reached[p] = 1;
      stack.push_back(i + n.x() * j);
    }
  };
  for (int i = 0; i < n.x(); ++i) seed(i, 0), seed(i, n.y() - 1);
  for (int j = 0; j < n.y(); ++j) seed(0, j), seed(n.x() - 1, j);
  while (!stack.empty()) {
    const int q = stack.back();
    stack.pop_back();
    const int i = q % n.x(), j = q / n.x();
    if (i > 0) seed(i - 1, j);
    if (i + 1 < n.x()) seed(i + 1, j);
    if (j > 0) seed(i, j - 1);
    if (j + 1 < n.y()) seed(i, j + 1);
  }
}

// 6-connected components of `m`; returns a label per voxel (0 = none) and each label's voxel count.
std::vector<std::int64_t> components(const Eigen::Vector3i& n, const Mask& m, std::vector<std::int32_t>& label) {
  const std::int64_t sx = 1, sy = n.x(), sz = std::int64_t(n.x()) * n.y();
  label.assign(m.size(), 0);
  std::vector<std::int64_t> sizes{0};
  std::vector<std::int64_t> stack;
  for (std::int64_t p0 = 0; p0 < std::int64_t(m.size()); ++p0) {
    if (!m[p0] || label[p0]) continue;
    const std::int32_t id = static_cast<std::int32_t>(sizes.size());
    sizes.push_back(0);
    label[p0] = id;
    stack.push_back(p0);
    while (!stack.empty()) {
      const std::int64_t p = stack.back();
      stack.pop_back();
      ++sizes[id];
      const int i = int(p % n.x()), j = int((p / n.x()) % n.y()), k = int(p / sz);
      const std::int64_t nbs[6] = {i > 0 ? p - sx : -1, i + 1 < n.x() ? p + sx : -1,
                                   j > 0 ? p - sy : -1, j + 1 < n.y() ? p + sy : -1,
                                   k > 0 ? p - sz : -1, k + 1 < n.z() ? p + sz : -1};
      for (std::int64_t q : nbs)
        if (q >= 0 && m[q] && !label[q]) {
          label[q] = id;
          stack.push_back(q);
        }
    }
  }
  return sizes;
}

// Region grown from seed over `passable`; stops (returns false) once it exceeds max_voxels.
bool grow(const Eigen::Vector3i& n, std::int64_t seed, const Mask& passable, std::int64_t max_voxels, Mask& out) {
  out.assign(passable.size(), 0);
  const std::int64_t sy = n.x(), sz = std::int64_t(n.x()) * n.y();
  std::vector<std::int64_t> stack{seed};
  out[seed] = 1;
  std::int64_t count = 0;
  while (!stack.empty()) {
    const std::int64_t p = stack.back();
    stack.pop_back();
    if (++count > max_voxels) return false;
    const int i = int(p % n.x()), j = int((p / n.x()) % n.y()), k = int(p / sz);
    const std::int64_t nbs[6] = {i > 0 ? p - 1 : -1,          i + 1 < n.x() ? p + 1 : -1, j > 0 ? p - sy : -1,
                                 j + 1 < n.y() ? p + sy : -1, k > 0 ? p - sz : -1,        k + 1 < n.z() ? p + sz : -1};
    for (std::int64_t q : nbs)
      if (q >= 0 && passable[q] && !out[q]) {
        out[q] = 1;
        stack.push_back(q);
      }
  }
  return true;
}

void dilate6(const Eigen::Vector3i& n, Mask& m) {
  Mask src = m;
  const std::int64_t sy = n.x(), sz = std::int64_t(n.x()) * n.y();
  for (std::int64_t p = 0; p < std::int64_t(m.size()); ++p) {
    if (!src[p]) continue;
    const int i = int(p % n.x()), j = int((p / n.x()) % n.y()), k = int(p / sz);
    if (i > 0) m[p - 1] = 1;
    if (i + 1 < n.x()) m[p + 1] = 1;
    if (j > 0) m[p - sy] = 1;
    if (j + 1 < n.y()) m[p + sy] = 1;
    if (k > 0) m[p - sz] = 1;
    if (k + 1 < n.z()) m[p + sz] = 1;
  }
}

// The trachea: in the most superior slices that hold in-body air, a small 2D air region near the midline.
std::int64_t find_trachea_seed(const core::VolumeI16& hu, const Mask& inbody_air, double body_mid_x) {
  const Eigen::Vector3i n = hu.dims();
  const double pixel_mm2 = hu.spacing().x() * hu.spacing().y();
  const int top = hu.geometry().direction(2, 2) >= 0 ? n.z() - 1 : 0;
  const int step = top == 0 ? 1 : -1;
  for (int s = 0, k = top; s < n.z(); ++s, k += step) {
    Mask slice(std::size_t(n.x()) * n.y());
    bool any = false;
    for (std::int64_t p = 0; p < std::int64_t(slice.size()); ++p)
      any |= (slice[p] = inbody_air[std::int64_t(k) * slice.size() + p]) != 0;
    if (!any) continue;
    std::vector<std::int32_t> lab;
    const auto sizes = components({n.x(), n.y(), 1}, slice, lab);
    for (std::size_t c = 1; c < sizes.size(); ++c) {
      const double area = sizes[c] * pixel_mm2;
      if (area < 30 || area > 1200) continue;
      // Seed at the darkest voxel: the lumen's core, not its partial-volume rim.
      double sx = 0, sy = 0;
      std::int64_t darkest = -1;
      const std::int64_t base = std::int64_t(k) * std::int64_t(slice.size());
      for (std::int64_t p = 0; p < std::int64_t(lab.size()); ++p)
        if (lab[p] == std::int32_t(c)) {
          sx += p % n.x(), sy += p / n.x();
          if (darkest < 0 || hu.values()[base + p] < hu.values()[base + darkest]) darkest = p;
        }
      const Eigen::Vector3d centre = hu.index_to_world({sx / sizes[c], sy / sizes[c], double(k)});
      if (std::abs(centre.x() - body_mid_x) < 30) return base + darkest;
    }
    if (s > n.z() / 3) break;  // the trachea starts above the lungs; no seed this far down
  }
  return -1;
}

}  // namespace

double label_volume_ml(const core::VolumeU8& labels, std::uint8_t label) {
  const auto count = std::count(labels.values().begin(), labels.values().end(), label);
  return double(count) * labels.spacing().prod() / 1000.0;
}

LungSegmentation segment_lungs(const core::VolumeI16& hu, const LungSegmentationOptions& o) {
  hu.geometry().validate("segment_lungs: CT volume");
  XL_CHECK(hu.geometry().axis_aligned(),
           "segment_lungs: CT direction is not axis-aligned; expected an imported volume");
  XL_CHECK(hu.dims().x() >= 8 && hu.dims().y() >= 8 && hu.dims().z() >= 2, "segment_lungs: CT of ",
           hu.dims().transpose(), " voxels is too small (expected >= 8 x 8 x 2)");
  XL_CHECK(o.airway_hu < o.air_threshold_hu, "segment_lungs: airway_hu ", o.airway_hu,
           " must be below air_threshold_hu ", o.air_threshold_hu);
  const Eigen::Vector3i n = hu.dims();
  const std::size_t total = hu.values().size();
  const double voxel_ml = hu.spacing().prod() / 1000.0;

  Mask air(total), outside(total, 0);
  for (std::size_t p = 0; p < total; ++p) air[p] = hu.values()[p] < o.air_threshold_hu;
  for (int k = 0; k < n.z(); ++k) flood_slice_from_border(n, k, air, outside);

  LungSegmentation seg;
  seg.body = core::VolumeU8(hu.geometry(), 0);
  Mask inside_air(total);
  double body_sum_x = 0;
  std::int64_t body_count = 0;
  for (std::size_t p = 0; p < total; ++p) {
    seg.body.values()[p] = !outside[p];
    inside_air[p] = air[p] && !outside[p];
    if (!outside[p]) body_sum_x += double(p % n.x()), ++body_count;
  }
  XL_CHECK(body_count > 0, "segment_lungs: no body found (every voxel is air connected to the border)");
  const double body_mid_x = hu.index_to_world({body_sum_x / body_count, 0, 0}).x();

  // Airways: grow from the trachea with stricter thresholds until the growth stays airway-sized.
  const std::int64_t seed = find_trachea_seed(hu, inside_air, body_mid_x);
  if (seed >= 0) {
    for (double thr : {o.airway_hu, o.airway_hu - 25, o.airway_hu - 40}) {
      Mask passable(total), airway;
      for (std::size_t p = 0; p < total; ++p) passable[p] = inside_air[p] && hu.values()[p] < thr;
      if (!passable[seed]) break;
      if (grow(n, seed, passable, std::int64_t(o.max_airway_ml / voxel_ml), airway)) {
        dilate6(n, airway);
        std::int64_t removed = 0;
        for (std::size_t p = 0; p < total; ++p)
          if (airway[p] && inside_air[p]) inside_air[p] = 0, ++removed;
        seg.airway_ml = removed * voxel_ml;
        break;
      }
    }
  }

  std::vector<std::int32_t> comp;
  const auto sizes = components(n, inside_air, comp);
  std::vector<int> order(sizes.size() - 1);
  std::iota(order.begin(), order.end(), 1);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return sizes[a] > sizes[b]; });
  const std::int64_t min_voxels = std::int64_t(o.min_lung_ml / voxel_ml);
  XL_CHECK(!order.empty() && sizes[order[0]] >= min_voxels, "segment_lungs: no air region inside the body of at least ",
           o.min_lung_ml, " mL (largest ", order.empty() ? 0.0 : sizes[order[0]] * voxel_ml,
           " mL); is this a chest CT in HU?");
  const bool two = order.size() >= 2 && sizes[order[1]] >= min_voxels &&
                   sizes[order[1]] >= o.single_component_ratio * sizes[order[0]];
  seg.split_at_midline = !two;

  // Centroid x of each kept component decides its side (-x is the patient's right).
  std::vector<double> sum_x(sizes.size(), 0);
  for (std::size_t p = 0; p < total; ++p)
    if (comp[p]) sum_x[comp[p]] += double(p % n.x());
  auto centroid_x = [&](int c) { return hu.index_to_world({sum_x[c] / sizes[c], 0, 0}).x(); };

  seg.labels = core::VolumeU8(hu.geometry(), kBackground);
  auto& lab = seg.labels.values();
  if (two) {
    const bool first_right = centroid_x(order[0]) < centroid_x(order[1]);
    const int right = first_right ? order[0] : order[1], left = first_right ? order[1] : order[0];
    for (std::size_t p = 0; p < total; ++p)
      lab[p] = comp[p] == right ? kRightLung : comp[p] == left ? kLeftLung : kBackground;
  } else {
    // Per axial slice, cut at the column (within 40 mm of the body's midline) that holds the fewest lung voxels:
    // the junction lines where the lungs touch are thin, so the cut follows them rather than a fixed plane.
    const int mid_i = int(std::lround(hu.world_to_index({body_mid_x, 0, 0}).x()));
    const int reach = std::max(1, int(std::lround(40.0 / hu.spacing().x())));
    const std::int64_t slice_size = std::int64_t(n.x()) * n.y();
    std::vector<int> column(n.x());
    for (int k = 0; k < n.z(); ++k) {
      std::fill(column.begin(), column.end(), 0);
      for (std::int64_t q = 0; q < slice_size; ++q)
        if (comp[k * slice_size + q] == order[0]) ++column[q % n.x()];
      int cut = std::clamp(mid_i, 0, n.x() - 1);
      for (int i = std::max(0, mid_i - reach); i <= std::min(n.x() - 1, mid_i + reach); ++i)
        if (column[i] < column[cut] || (column[i] == column[cut] && std::abs(i - mid_i) < std::abs(cut - mid_i)))
          cut = i;
      // Index x grows with world x (+x is the patient's left) for the identity direction of imported volumes.
      for (std::int64_t q = 0; q < slice_size; ++q)
        if (comp[k * slice_size + q] == order[0])
          lab[k * slice_size + q] = int(q % n.x()) < cut ? kRightLung : kLeftLung;
    }
    core::log::debug("segment_lungs: one air component; split per slice near x = ", body_mid_x, " mm");
  }

  // Holes per axial slice and lung: what the slice border cannot reach without crossing the lung is lung.
  for (std::uint8_t l : {kRightLung, kLeftLung}) {
    Mask not_lung(total), reached(total, 0);
    for (std::size_t p = 0; p < total; ++p) not_lung[p] = lab[p] != l;
    for (int k = 0; k < n.z(); ++k) flood_slice_from_border(n, k, not_lung, reached);
    for (std::size_t p = 0; p < total; ++p)
      if (!reached[p] && lab[p] == kBackground) lab[p] = l;
  }
  seg.right_ml = label_volume_ml(seg.labels, kRightLung);
  seg.left_ml = label_volume_ml(seg.labels, kLeftLung);
  return seg;
}

}  // namespace xraylift::data
