#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"

#include "xraylift/viz/lung_segmentation.hpp"
#include "xraylift/viz/synthetic_chest.hpp"

using namespace xraylift;

TEST(LungSegmentation, SyntheticChestTwoLungsRightIsNegativeX) {
  const auto chest = viz::make_synthetic_chest();
  const auto seg = viz::segment_lungs(chest.hu);
  const double expected = chest.lung_ellipsoid_ml();
  // Holes (vessels) closed; the bronchi inside the lungs are airway and partly trimmed: within 8 %.
  EXPECT_NEAR(seg.right_ml / expected, 1.0, 0.08) << seg.right_ml;
  EXPECT_NEAR(seg.left_ml / expected, 1.0, 0.08) << seg.left_ml;
  EXPECT_GT(seg.airway_ml, 10.0);
  const auto& g = seg.labels.geometry();
  const auto ir = g.world_to_index(chest.right_centre).array().round().cast<int>();
  const auto il = g.world_to_index(chest.left_centre).array().round().cast<int>();
  EXPECT_EQ(seg.labels.at(ir[0], ir[1], ir[2]), viz::kRightLung);
  EXPECT_EQ(seg.labels.at(il[0], il[1], il[2]), viz::kLeftLung);
  // The trachea above the lungs is not lung.
  const auto it = g.world_to_index({0, 0, 120}).array().round().cast<int>();
  EXPECT_EQ(seg.labels.at(it[0], it[1], it[2]), viz::kBackground);
}

TEST(LungSegmentation, NoLungsIsAnInputError) {
  core::VolumeI16 hu(core::VolumeGeometry::centered({32, 32, 8}, Eigen::Vector3d::Ones()), 40);
  EXPECT_THROW(viz::segment_lungs(hu), core::InputError);
}
