// 3D duplicate removal (detect3d/duplicates.hpp), the one rule triangulate and MV2D decode use.
#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"
#include "xraylift/detect3d/duplicates.hpp"

using namespace xraylift;
using detect3d::DuplicateRule;

namespace {
core::Box3D cube(double x, double size) { return {Eigen::Vector3d(x, 0, 0), Eigen::Vector3d::Constant(size)}; }
}  // namespace

TEST(Duplicates, IouCriterionAgainstClosedFormOverlaps) {
  // Two 10 mm cubes shifted by 5 mm along x: intersection 5 x 10 x 10 = 500, union 1500, IoU 1/3.
  const DuplicateRule just_below{DuplicateRule::Criterion::kIou, 1.0 / 3.0 - 1e-9};
  const DuplicateRule just_above{DuplicateRule::Criterion::kIou, 1.0 / 3.0 + 1e-9};
  EXPECT_TRUE(just_below.duplicates(cube(0, 10), cube(5, 10)));
  EXPECT_FALSE(just_above.duplicates(cube(0, 10), cube(5, 10)));
  EXPECT_FALSE((DuplicateRule{DuplicateRule::Criterion::kIou, 1.0}).duplicates(cube(0, 10), cube(0, 10)));  // keeps all
}

TEST(Duplicates, CentreDistanceCriterionIsStrictAndZeroKeepsAll) {
  const DuplicateRule ten{DuplicateRule::Criterion::kCenterDistance, 10.0};
  EXPECT_TRUE(ten.duplicates(cube(0, 2), cube(9.99, 30)));  // size plays no part
  EXPECT_FALSE(ten.duplicates(cube(0, 2), cube(10.0, 2)));
  EXPECT_FALSE((DuplicateRule{DuplicateRule::Criterion::kCenterDistance, 0.0}).duplicates(cube(0, 2), cube(0, 2)));
  EXPECT_TRUE(detect3d::duplicates_any({cube(100, 5), cube(0, 5)}, cube(3, 5), ten));
  EXPECT_FALSE(detect3d::duplicates_any({}, cube(3, 5), ten));
}

TEST(Duplicates, ThresholdsOutsideTheirRangeAreConfigErrors) {
  EXPECT_THROW((DuplicateRule{DuplicateRule::Criterion::kIou, 1.5}).validate("merge_iou"), core::ConfigError);
  EXPECT_THROW((DuplicateRule{DuplicateRule::Criterion::kCenterDistance, -1}).validate("d"), core::ConfigError);
  EXPECT_NO_THROW((DuplicateRule{DuplicateRule::Criterion::kCenterDistance, 12}).validate("d"));
}
