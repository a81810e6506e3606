#include <gtest/gtest.h>

#include "xraylift/data/phantom.hpp"
#include "xraylift/testing/phantoms.hpp"

using namespace xraylift;

TEST(Phantom, DeterministicFromSeedAndCentred) {
  data::PhantomSpec spec;
  spec.dims = {64, 64, 40};
  spec.spacing_mm = {5.0, 4.0, 8.0};
  spec.seed = 7;
  const auto a = data::generate_phantom(spec);
  const auto b = data::generate_phantom(spec);
  EXPECT_EQ(a.ct.hu.values(), b.ct.hu.values());
  EXPECT_EQ(a.labels.values(), b.labels.values());
  EXPECT_NEAR(a.ct.hu.geometry().center_world().norm(), 0.0, 1e-9);
  spec.seed = 8;
  EXPECT_NE(data::generate_phantom(spec).ct.hu.values(), a.ct.hu.values());
}

TEST(Phantom, TruthBoxesAreTheExactVoxelExtent) {
  const auto spec = xraylift::testing::phantom_spec(3, {96, 96, 48}, {3.5, 3.0, 6.0}, 3, 12, 25);
  const auto ph = data::generate_phantom(spec);
  ASSERT_FALSE(ph.nodules.empty());
  ASSERT_EQ(ph.ct.nodules.size(), ph.nodules.size());
  const auto& g = ph.ct.hu.geometry();
  for (std::size_t n = 0; n < ph.nodules.size(); ++n) {
    Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e9), hi = -lo;
    for (int k = 0; k < g.dims.z(); ++k)
      for (int j = 0; j < g.dims.y(); ++j)
        for (int i = 0; i < g.dims.x(); ++i)
          if (ph.nodule_ids.at(i, j, k) == n + 1) {
            const Eigen::Vector3d p = g.index_to_world(Eigen::Vector3d(i, j, k));
            lo = lo.cwiseMin(p - 0.5 * g.spacing);
            hi = hi.cwiseMax(p + 0.5 * g.spacing);
          }
    EXPECT_TRUE(ph.nodules[n].truth.box.min().isApprox(lo, 1e-9)) << n;
    EXPECT_TRUE(ph.nodules[n].truth.box.max().isApprox(hi, 1e-9)) << n;
  }
}

TEST(Phantom, BadSpecIsAConfigError) {
  data::PhantomSpec spec;
  spec.dims = {0, 10, 10};
  EXPECT_THROW(data::generate_phantom(spec), core::ConfigError);
  spec = {};
  spec.spacing_mm.x() = -1;
  EXPECT_THROW(data::generate_phantom(spec), core::ConfigError);
}

namespace {
// Mean HU and count per label.
struct Stats {
  double sum[9] = {};
  std::int64_t n[9] = {};
  double mean(int l) const { return n[l] ? sum[l] / double(n[l]) : 0; }
};
Stats label_stats(const data::Phantom& ph) {
  Stats s;
  for (std::size_t i = 0; i < ph.labels.values().size(); ++i) {
    const int l = ph.labels.values()[i];
    s.sum[l] += ph.ct.hu.values()[i];
    ++s.n[l];
  }
  return s;
}
bool touches(const data::Phantom& ph, int id, std::initializer_list<int> labels) {
  const auto& d = ph.labels.dims();
  for (int k = 0; k < d.z(); ++k)
    for (int j = 0; j < d.y(); ++j)
      for (int i = 0; i < d.x(); ++i) {
        if (ph.nodule_ids.at(i, j, k) != id) continue;
        for (int a = 0; a < 3; ++a)
          for (int s = -1; s <= 1; s += 2) {
            Eigen::Vector3i q(i, j, k);
            q[a] += s;
            if (!ph.labels.in_bounds(q.x(), q.y(), q.z())) continue;
            for (int l : labels)
              if (ph.labels.at(q.x(), q.y(), q.z()) == l) return true;
          }
      }
  return false;
}
}  // namespace

TEST(Phantom, TissuesHaveTheirHounsfieldRangesAndNodulesTheirSites) {
  const auto spec = xraylift::testing::phantom_spec(21, {160, 128, 64}, {2.2, 2.2, 5.0}, 9, 6, 16);
  const auto ph = data::generate_phantom(spec);
  const Stats s = label_stats(ph);
  for (int l = 0; l <= 8; ++l) EXPECT_GT(s.n[l], 0) << "label " << l << " missing";
  EXPECT_NEAR(s.mean(data::kLabelOutside), -1000, 10);
  EXPECT_GT(s.mean(data::kLabelRightLung), -920);
  EXPECT_LT(s.mean(data::kLabelRightLung), -750);
  EXPECT_GT(s.mean(data::kLabelLeftLung), -920);
  EXPECT_LT(s.mean(data::kLabelLeftLung), -750);
  EXPECT_GT(s.mean(data::kLabelBone), 300);
  EXPECT_NEAR(s.mean(data::kLabelMediastinum), 0, 80);  // heart/vessels +40, mediastinal fat -70
  EXPECT_GT(s.mean(data::kLabelVessel), -300);          // partial volume pulls thin vessels down
  EXPECT_LT(s.mean(data::kLabelAirway), -300);          // lumen dominates
  // Right lung on the patient's right (-x), left on +x; the heart leans left.
  double x_sum[9] = {};
  for (int k = 0; k < spec.dims.z(); ++k)
    for (int j = 0; j < spec.dims.y(); ++j)
      for (int i = 0; i < spec.dims.x(); ++i)
        x_sum[ph.labels.at(i, j, k)] += ph.labels.index_to_world(Eigen::Vector3d(i, j, k)).x();
  EXPECT_LT(x_sum[data::kLabelRightLung] / s.n[data::kLabelRightLung], -40);
  EXPECT_GT(x_sum[data::kLabelLeftLung] / s.n[data::kLabelLeftLung], 40);
  EXPECT_GT(ph.ct.meta["vessel_segments"].get<int>(), 300);
  ASSERT_GE(ph.nodules.size(), 6u);
  bool pleural = false, vascular = false, kinds[3] = {};
  for (std::size_t n = 0; n < ph.nodules.size(); ++n) {
    const auto& nod = ph.nodules[n];
    kinds[int(nod.kind)] = true;
    if (nod.site == data::NoduleSite::kJuxtaPleural)
      pleural = pleural || touches(ph, int(n) + 1, {data::kLabelSoftTissue, data::kLabelBone, data::kLabelMediastinum});
    if (nod.site == data::NoduleSite::kJuxtaVascular)
      vascular = vascular || touches(ph, int(n) + 1, {data::kLabelVessel});
  }
  EXPECT_TRUE(pleural) << "no juxta-pleural nodule touches the chest wall";
  EXPECT_TRUE(vascular) << "no juxta-vascular nodule touches a vessel";
  EXPECT_TRUE(kinds[0]);
  // Every truth box carries its nodule's texture, the kind's name.
  for (const auto& nod : ph.nodules)
    if (nod.voxels > 0) EXPECT_EQ(nod.truth.texture, data::to_string(nod.kind)) << nod.truth.id;
  for (const auto& t : ph.ct.nodules) EXPECT_TRUE(core::is_nodule_texture(t.texture)) << t.id;
  // Solid nodules are soft-tissue dense.
  for (std::size_t n = 0; n < ph.nodules.size(); ++n) {
    if (ph.nodules[n].kind != data::NoduleKind::kSolid) continue;
    double sum = 0;
    int count = 0;
    for (std::size_t i = 0; i < ph.nodule_ids.values().size(); ++i)
      if (ph.nodule_ids.values()[i] == n + 1) {
        sum += ph.ct.hu.values()[i];
        ++count;
      }
    EXPECT_NEAR(sum / count, 35, 25) << ph.nodules[n].truth.id;
  }
}
