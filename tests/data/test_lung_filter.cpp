// The lung filter of predict (data/lung_filter.hpp).
#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"
#include "xraylift/data/lung_filter.hpp"

using namespace xraylift;

namespace {
core::BoxRecord box_at(const std::string& id, const Eigen::Vector3d& centre, double size = 1.0) {
  core::BoxRecord b;
  b.id = id;
  b.box = core::Box3D{centre, {size, size, size}};
  return b;
}
}  // namespace

// A 10 x 10 x 10 mask at 2 mm (world x, y, z from -9 to +9 mm) whose lung is the voxels with index x >= 5 (world
// x >= 1 mm). Catches: a box inside the lung removed or one outside kept, the mask read through a swapped or
// unflipped axis, a centre beyond the volume read from a clamped edge voxel (outside must be outside), a
// juxta-pleural box (centre outside, box reaching into the lung) removed, and the order of the kept boxes changed.
TEST(LungFilter, KeepsCentresInsideTheLungMaskAndRemovesTheRest) {
  core::VolumeU8 labels(core::VolumeGeometry::centered({10, 10, 10}, {2, 2, 2}), 0);
  for (int k = 0; k < 10; ++k)
    for (int j = 0; j < 10; ++j)
      for (int i = 5; i < 10; ++i) labels.at(i, j, k) = 2;
  const std::vector<core::BoxRecord> boxes = {
      box_at("in", {5, 0, 0}),          box_at("out", {-5, 0, 0}),       box_at("edge_in", {1.2, -8.9, 8.9}),
      box_at("edge_out", {-1.2, 0, 0}), box_at("beyond", {15, 0, 0}),    box_at("in2", {9, 9, -9}),
      box_at("out_y", {0.5, 50, 0}),    box_at("juxta", {-3, 0, 0}, 10), box_at("near", {-3, 0, 0}, 6)};
  const auto r = data::keep_inside_lungs(boxes, labels);
  ASSERT_EQ(r.kept.size(), 4u);
  EXPECT_EQ(r.kept[0].id, "in");
  EXPECT_EQ(r.kept[1].id, "edge_in");
  EXPECT_EQ(r.kept[2].id, "in2");
  EXPECT_EQ(r.kept[3].id, "juxta");  // x from -8 to 2 mm holds the lung voxel centred at x = 1 mm
  ASSERT_EQ(r.removed.size(), 5u);   // "near": x from -6 to 0 mm holds no lung voxel centre
  EXPECT_EQ(r.removed[4].id, "near");
  EXPECT_EQ(r.removed[0].id, "out");
  EXPECT_EQ(r.removed[2].id, "beyond");
  // A margin grows the box for the second test: "near" (x up to 0 mm) reaches the lung voxel at 1 mm with 1.5 mm.
  const auto m = data::keep_inside_lungs(boxes, labels, 1.5);
  ASSERT_EQ(m.kept.size(), 5u);  // "edge_out" (x up to -0.7 + 1.5 = 0.8 mm) still holds no lung voxel centre
  EXPECT_EQ(m.kept[4].id, "near");
  EXPECT_THROW(data::keep_inside_lungs(boxes, core::VolumeU8()), core::InputError);
  EXPECT_THROW(data::keep_inside_lungs(boxes, labels, -1), core::InputError);
}
