// Vessel trees of the `chest` phantom model (data/src/chest_vessels.cpp; docs/data.md "Phantoms").
#include <gtest/gtest.h>

#include <cmath>

#include "xraylift/data/anatomy_stats.hpp"
#include "xraylift/data/phantom.hpp"

using namespace xraylift;

namespace {
data::Phantom chest(std::uint64_t seed) {
  data::PhantomSpec s;
  s.anatomy = data::PhantomAnatomy::kChest;
  s.seed = seed;
  s.dims = {128, 128, 48};
  s.spacing_mm = {2.6, 2.2, 6.5};
  s.nodules = 0;
  s.vessel_terminal_radius_mm = 0.35;
  return data::generate_phantom(s);
}
}  // namespace

// Murray's law at every node: r^3 = sum of the children's r^3, leaves at the terminal radius, parents before
// children, four trees. Catches radii assigned per generation (a constant ratio breaks the law at uneven
// branchings) or leaves left at radius 0.
TEST(ChestVessels, MurraysLawAtEveryBranch) {
  const auto ph = chest(11);
  const auto& t = ph.vessel_tree;
  ASSERT_GT(t.size(), 500u);
  std::vector<double> sum_r3(t.size(), 0.0);
  std::vector<int> children(t.size(), 0);
  bool trees[4] = {false, false, false, false};
  for (std::size_t n = 0; n < t.size(); ++n) {
    ASSERT_LT(t[n].parent, int(n)) << n;
    ASSERT_GE(t[n].tree, 0);
    ASSERT_LT(t[n].tree, 4);
    trees[t[n].tree] = true;
    if (t[n].parent < 0) continue;
    EXPECT_EQ(t[t[n].parent].tree, t[n].tree) << n;
    sum_r3[t[n].parent] += std::pow(t[n].radius_mm, 3);
    ++children[t[n].parent];
  }
  for (bool b : trees) EXPECT_TRUE(b);
  int branchings = 0;
  for (std::size_t n = 0; n < t.size(); ++n) {
    if (children[n] == 0) {
      EXPECT_NEAR(t[n].radius_mm, 0.35, 1e-12) << n;
      continue;
    }
    branchings += children[n] >= 2;
    EXPECT_NEAR(std::pow(t[n].radius_mm, 3), sum_r3[n], 1e-9 * sum_r3[n]) << n;
  }
  EXPECT_GT(branchings, 100);
}

// The trees fill the lungs: no lung voxel is further than 15 mm from a tree node (space colonization stops only
// when the attraction points everywhere are reached). Catches trees that stop short of the periphery or miss a
// lobe (a root outside its lung, a growth step refused everywhere).
TEST(ChestVessels, TreesReachThePeriphery) {
  const auto ph = chest(12);
  const auto& g = ph.labels.geometry();
  core::VolumeU8 away;  // 1 everywhere but the voxels holding a tree node
  away.geometry() = g;
  away.values().assign(ph.labels.values().size(), 1);
  for (const auto& n : ph.vessel_tree) {
    const Eigen::Vector3d idx = g.world_to_index(n.p);
    const int i = int(std::lround(idx.x())), j = int(std::lround(idx.y())), k = int(std::lround(idx.z()));
    ASSERT_TRUE(away.in_bounds(i, j, k));
    away.at(i, j, k) = 0;
  }
  const core::VolumeF dist = data::distance_to_outside_mm(away);
  double worst = 0;
  for (std::size_t n = 0; n < away.values().size(); ++n) {
    const auto l = ph.labels.values()[n];
    if (l == data::kLabelRightLung || l == data::kLabelLeftLung) worst = std::max(worst, double(dist.values()[n]));
  }
  EXPECT_LT(worst, 15.0);
  EXPECT_GT(worst, 1.0);  // the metric measures something
}
