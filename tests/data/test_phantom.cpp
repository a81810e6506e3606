#include <gtest/gtest.h>

#include "xraylift/data/phantom.hpp"

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
  data::PhantomSpec spec;
  spec.dims = {96, 96, 48};
  spec.spacing_mm = {3.5, 3.0, 6.0};
  spec.seed = 3;
  spec.nodules = 3;
  spec.nodule_min_diameter_mm = 12;
  spec.nodule_max_diameter_mm = 25;
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
