// The one voxel -> pixel projection (core/voxel_projection.hpp) against Camera::project / depth, voxel by voxel.
#include <gtest/gtest.h>

#include <Eigen/Geometry>

#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/core/voxel_projection.hpp"

using namespace xraylift;

// Catches: a voxel order other than core::Volume's (x fastest), rows and columns swapped, the visibility test
// using the wrong image size or ignoring points behind the source.
TEST(VoxelProjection, MatchesCameraProjectVoxelByVoxel) {
  core::RingSpec spec;
  spec.detector.width = 40;
  spec.detector.height = 30;
  spec.detector.pixel_size_mm = 20;
  const core::Rig rig = core::Rig::ring(spec);
  core::VolumeGeometry g;
  g.dims = {7, 5, 4};
  g.spacing = {30, 45, 70};
  g.origin = {-90, -100, -105};
  const auto p = core::project_voxel_centres(g, rig.cameras());
  ASSERT_EQ(p.voxels, 140);
  ASSERT_EQ(p.views, rig.size());
  int visible = 0, hidden = 0;
  for (std::size_t v = 0; v < rig.size(); ++v)
    for (std::int64_t i = 0; i < p.voxels; ++i) {
      const Eigen::Vector3d x = g.index_to_world(Eigen::Vector3d(double(i % 7), double((i / 7) % 5), double(i / 35)));
      EXPECT_LT((core::voxel_centre(g, i) - x).norm(), 1e-12);
      const auto& cam = rig[v];
      const Eigen::Vector2d uv = cam.project(x);
      EXPECT_NEAR(p.at(v, i).u, uv.x(), 1e-9);
      EXPECT_NEAR(p.at(v, i).v, uv.y(), 1e-9);
      EXPECT_NEAR(p.at(v, i).depth, cam.depth(x), 1e-9);
      const bool in = cam.depth(x) > 0 && cam.in_image(uv);
      EXPECT_EQ(p.visible[v * std::size_t(p.voxels) + std::size_t(i)] != 0, in);
      (in ? visible : hidden)++;
    }
  EXPECT_GT(visible, 0);
  EXPECT_GT(hidden, 0);  // the grid reaches outside some views: both branches are tested
}

// Catches: an unbounded allocation for a huge grid, a non-axis-aligned grid read as axis-aligned.
TEST(VoxelProjection, RejectsTooManyProjectionsAndRotatedGrids) {
  const core::Rig rig = core::Rig::ring({});
  core::VolumeGeometry g;
  g.dims = {100, 100, 100};
  EXPECT_THROW(core::project_voxel_centres(g, rig.cameras(), 1000), core::InputError);
  EXPECT_THROW(core::project_voxel_centres(g, {}), core::InputError);
  g.dims = {2, 2, 2};
  g.direction = Eigen::AngleAxisd(0.3, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  EXPECT_THROW(core::project_voxel_centres(g, rig.cameras()), core::InputError);
}
