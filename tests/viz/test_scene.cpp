#include <gtest/gtest.h>

#include "scene_fixture.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/viz/axes.hpp"

#include <Eigen/LU>

using namespace xraylift;

TEST(Scene, NodesPerLungAndNodulesColouredBySource) {
  const auto& s = viz::testing::fixture_scene();
  ASSERT_NE(s.find("right_lung"), nullptr);
  ASSERT_NE(s.find("left_lung"), nullptr);
  const auto* t = s.find("nodule_t1_sphere");
  const auto* p = s.find("nodule_p1_box");
  ASSERT_NE(t, nullptr);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(s.find("right_lung")->translucent);
  EXPECT_FALSE(t->translucent);
  EXPECT_GT(t->rgba[1], t->rgba[0]);  // truth green
  EXPECT_GT(p->rgba[0], p->rgba[1]);  // prediction red
  EXPECT_FLOAT_EQ(t->rgba[3], 1.0f);
  EXPECT_NEAR(p->rgba[3], 0.3 + 0.7 * 0.6, 1e-6);  // opacity by score
  // Sphere diameter from the box (mean extent 12 mm).
  const auto b = viz::bounds(t->mesh);
  EXPECT_NEAR(b.hi.z() - b.lo.z(), 12.0, 1e-3);
  EXPECT_EQ(p->info["score"].get<double>(), 0.6);
}

TEST(Scene, BadNoduleIsAnInputError) {
  viz::Scene s;
  auto boxes = viz::testing::fixture_boxes();
  boxes[0].score = 1.5;
  EXPECT_THROW(viz::add_nodules(s, boxes), core::InputError);
  EXPECT_THROW(viz::parse_nodule_shape("cube"), core::ConfigError);
}

TEST(Axes, LpsToGltfIsAProperRotationInMetres) {
  // Patient's left -> +X, superior -> +Y, anterior (-y LPS) -> +Z.
  EXPECT_TRUE(viz::lps_mm_to_gltf({1000, 0, 0}).isApprox(Eigen::Vector3f(1, 0, 0)));
  EXPECT_TRUE(viz::lps_mm_to_gltf({0, 0, 1000}).isApprox(Eigen::Vector3f(0, 1, 0)));
  EXPECT_TRUE(viz::lps_mm_to_gltf({0, -1000, 0}).isApprox(Eigen::Vector3f(0, 0, 1)));
  Eigen::Matrix3f R;
  for (int a = 0; a < 3; ++a) R.col(a) = viz::lps_dir_to_gltf(Eigen::Vector3f::Unit(a));
  EXPECT_NEAR(R.determinant(), 1.0f, 1e-6);
  const Eigen::Vector3f p(12.5f, -40, 77);
  EXPECT_TRUE(viz::gltf_to_lps_mm(viz::lps_mm_to_gltf(p)).isApprox(p));
}
