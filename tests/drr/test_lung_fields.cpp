// Lung fields per view (drr/lung_fields.hpp): the mask Dice and bad input (the rendered phantom's fields are
// checked in test_visual_hull.cpp, where the body hull that the field rule needs is built).
#include <gtest/gtest.h>

#include <cmath>

#include "xraylift/core/error.hpp"
#include "xraylift/drr/lung_fields.hpp"

using namespace xraylift;

// Catches: a Dice that ignores the empty case or sizes that differ.
TEST(LungFields, MaskDiceAndBadImages) {
  drr::Mask2D a{2, 2, {1, 1, 0, 0}}, b{2, 2, {1, 0, 0, 0}}, e{2, 2, {0, 0, 0, 0}};
  EXPECT_NEAR(drr::mask_dice(a, b), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(drr::mask_dice(e, e), 1.0);
  EXPECT_THROW(drr::mask_dice(a, drr::Mask2D{1, 1, {1}}), core::InputError);
  const std::vector<float> nan(16, std::nanf(""));
  EXPECT_THROW(drr::body_field(nan.data(), 4, 4), core::InputError);
  drr::LungFieldOptions bad;
  bad.min_deficit_fraction = 1.5;
  EXPECT_THROW(bad.validate(), core::ConfigError);
}
