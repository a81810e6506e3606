#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"
#include "xraylift/viz/generic_lung_model.hpp"
#include "xraylift/viz/mesh.hpp"

using namespace xraylift;

TEST(GenericLungModel, QuanjerTlcValues) {
  // ERS/ECSC 1993: men 7.99 H - 7.08, women 6.60 H - 5.79 (H in m).
  EXPECT_NEAR(viz::predicted_tlc_litres({viz::Sex::kMale, 40, 175}), 7.99 * 1.75 - 7.08, 1e-12);
  EXPECT_NEAR(viz::predicted_tlc_litres({viz::Sex::kFemale, 40, 165}), 6.60 * 1.65 - 5.79, 1e-12);
  EXPECT_THROW(viz::predicted_tlc_litres({viz::Sex::kMale, 10, 140}), core::InputError);
  EXPECT_THROW(viz::parse_sex("x"), core::ConfigError);
}

TEST(GenericLungModel, ScalesTemplateToTlcAndCentresOnIsocentre) {
  viz::LungModel t;
  t.lungs.push_back({"right_lung", viz::make_sphere({-70, 30, 20}, 50, 24, 48), 0, 0});
  t.lungs.push_back({"left_lung", viz::make_sphere({70, 30, 20}, 50, 24, 48), 0, 0});
  const viz::PatientSpec p{viz::Sex::kFemale, 55, 160};
  const auto m = viz::generic_lung_model(t, p);
  double ml = 0;
  viz::Bounds b;
  for (const auto& l : m.lungs) {
    ml += viz::signed_volume(l.mesh) / 1000;
    const auto lb = viz::bounds(l.mesh);
    b.add(lb.lo), b.add(lb.hi);
  }
  EXPECT_NEAR(ml / 1000, viz::predicted_tlc_litres(p), 1e-3);
  EXPECT_LT((0.5 * (b.lo + b.hi)).norm(), 1e-3);
}
