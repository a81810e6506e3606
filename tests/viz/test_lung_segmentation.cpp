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

#include "xraylift/data/dicom.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/viz/lung_model.hpp"

TEST(LungSegmentation, LidcSampleTwoLungsPlausibleVolumeClosedMeshInsideBody) {
  XL_REQUIRE_LIDC_SAMPLE(dir);
  const auto series = data::read_dicom_series(dir);
  const auto seg = viz::segment_lungs(series.hu);
  std::printf("[ lungs    ] right %.0f mL, left %.0f mL, total %.2f L, airway removed %.0f mL, split %d\n",
              seg.right_ml, seg.left_ml, seg.total_ml() / 1000, seg.airway_ml, int(seg.split_at_midline));
  EXPECT_GT(seg.right_ml, 1000);
  EXPECT_GT(seg.left_ml, 1000);
  EXPECT_GT(seg.total_ml(), 3000);
  EXPECT_LT(seg.total_ml(), 8000);
  // The right lung is usually the larger one.
  EXPECT_GT(seg.right_ml / seg.left_ml, 0.8);
  const auto model = viz::build_lung_model(seg);
  ASSERT_EQ(model.lungs.size(), 2u);
  EXPECT_LE(model.triangle_count(), 20000u);
  for (const auto& l : model.lungs) {
    EXPECT_TRUE(viz::is_watertight(l.mesh)) << l.name;
    EXPECT_NEAR(l.mesh_ml / l.mask_ml, 1.0, 0.05) << l.name;
    // No vertex outside the body: each lies in a body voxel (or within one voxel of one: surfaces sit on edges).
    int outside = 0;
    const auto& body = seg.body;
    for (const auto& v : l.mesh.vertices) {
      const Eigen::Vector3d idx = body.world_to_index(v.cast<double>());
      bool in = false;
      for (int dz = -1; dz <= 1 && !in; ++dz)
        for (int dy = -1; dy <= 1 && !in; ++dy)
          for (int dx = -1; dx <= 1 && !in; ++dx) {
            const int i = int(std::lround(idx.x())) + dx, j = int(std::lround(idx.y())) + dy,
                      k = int(std::lround(idx.z())) + dz;
            in = body.in_bounds(i, j, k) && body.at(i, j, k);
          }
      outside += !in;
    }
    EXPECT_EQ(outside, 0) << l.name;
  }
  // Right lung at -x (patient's right in LPS).
  EXPECT_LT(viz::bounds(model.lungs[0].mesh).lo.x(), viz::bounds(model.lungs[1].mesh).lo.x());
}

TEST(LungSegmentation, TouchingLungsAreSplitAtTheirJunction) {
  // A thin air bridge (4 mm in y) joins the lungs: one component, split per slice at the thinnest column.
  auto chest = viz::make_synthetic_chest();
  auto& hu = chest.hu;
  for (int k = 0; k < hu.dims().z(); ++k)
    for (int j = 0; j < hu.dims().y(); ++j)
      for (int i = 0; i < hu.dims().x(); ++i) {
        const Eigen::Vector3d p = hu.index_to_world(Eigen::Vector3d(i, j, k));
        if (std::abs(p.x()) < 40 && std::abs(p.y() + 20) <= 2 && std::abs(p.z() + 10) < 40) hu.at(i, j, k) = -850;
      }
  const auto seg = viz::segment_lungs(hu);
  EXPECT_TRUE(seg.split_at_midline);
  const double expected = chest.lung_ellipsoid_ml();
  EXPECT_NEAR(seg.right_ml / expected, 1.0, 0.1) << seg.right_ml;
  EXPECT_NEAR(seg.left_ml / expected, 1.0, 0.1) << seg.left_ml;
  const auto& g = seg.labels.geometry();
  const auto ir = g.world_to_index(chest.right_centre).array().round().cast<int>();
  EXPECT_EQ(seg.labels.at(ir[0], ir[1], ir[2]), viz::kRightLung);
}
