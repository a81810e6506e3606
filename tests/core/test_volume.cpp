#include <gtest/gtest.h>

#include "xraylift/core/volume.hpp"

using namespace xraylift::core;

TEST(Volume, CentredGeometryPutsTheMidpointAtTheOrigin) {
  const auto g = VolumeGeometry::centered({512, 512, 133}, {0.703125, 0.703125, 2.5});
  EXPECT_NEAR(g.center_world().norm(), 0, 1e-9);
  // First voxel centre at -(n - 1)/2 * spacing: voxel values sit at voxel centres (no half-voxel shift).
  EXPECT_NEAR(g.index_to_world({0, 0, 0}).x(), -511 * 0.703125 / 2, 1e-9);
  EXPECT_NEAR(g.index_to_world({0, 0, 0}).z(), -132 * 2.5 / 2, 1e-9);
  // Cells extend half a voxel beyond the extreme centres.
  const Box3D b = g.world_bounds();
  EXPECT_NEAR(b.size.x(), 512 * 0.703125, 1e-9);
  EXPECT_NEAR(b.size.z(), 133 * 2.5, 1e-9);
  EXPECT_NEAR(b.center.norm(), 0, 1e-9);
}

TEST(Volume, IndexWorldRoundTrip) {
  VolumeGeometry g = VolumeGeometry::centered({10, 20, 30}, {1.5, 0.5, 2.0});
  g.origin += Eigen::Vector3d(3, -4, 5);
  const Eigen::Vector3d ijk(2.25, 7.5, 11.0);
  EXPECT_NEAR((g.world_to_index(g.index_to_world(ijk)) - ijk).norm(), 0, 1e-12);
  EXPECT_NEAR((g.index_to_world({1, 0, 0}) - g.index_to_world({0, 0, 0})).x(), 1.5, 1e-12);
}

TEST(Volume, StorageIsXFastest) {
  VolumeF v(VolumeGeometry::centered({4, 3, 2}, {1, 1, 1}));
  v.at(1, 0, 0) = 1;
  v.at(0, 1, 0) = 2;
  v.at(0, 0, 1) = 3;
  EXPECT_EQ(v.data()[1], 1);
  EXPECT_EQ(v.data()[4], 2);
  EXPECT_EQ(v.data()[12], 3);
  EXPECT_EQ(v.size(), 24);
}

TEST(Volume, RejectsBadGeometry) {
  EXPECT_THROW(VolumeF(VolumeGeometry::centered({0, 3, 2}, {1, 1, 1})), InputError);
  EXPECT_THROW(VolumeF(VolumeGeometry::centered({4, 3, 2}, {1, 0, 1})), InputError);
  EXPECT_THROW(VolumeF(VolumeGeometry::centered({4, 3, 2}, {1, NAN, 1})), InputError);
}
