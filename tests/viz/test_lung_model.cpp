#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"

#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/synthetic_chest.hpp"

using namespace xraylift;

TEST(LungModel, SyntheticChestClosedMeshesNearMaskVolume) {
  const auto chest = viz::make_synthetic_chest();
  const auto seg = viz::segment_lungs(chest.hu);
  viz::LungModelOptions o;
  o.target_triangles = 6000;
  const auto model = viz::build_lung_model(seg, o);
  ASSERT_EQ(model.lungs.size(), 2u);
  EXPECT_EQ(model.lungs[0].name, "right_lung");
  EXPECT_LE(model.triangle_count(), 6000u);
  for (const auto& l : model.lungs) {
    EXPECT_TRUE(viz::is_watertight(l.mesh)) << l.name;
    EXPECT_NEAR(l.mesh_ml / l.mask_ml, 1.0, 0.04) << l.name;
  }
  EXPECT_LT(viz::bounds(model.lungs[0].mesh).hi.x(), 0.0);  // the right lung lies at -x
  EXPECT_GT(viz::bounds(model.lungs[1].mesh).lo.x(), 0.0);
}
