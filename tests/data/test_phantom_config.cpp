#include <gtest/gtest.h>

#include "xraylift/data/phantom.hpp"

using namespace xraylift;

TEST(PhantomConfig, ReadsEveryKeyAndKeepsDefaults) {
  const auto cfg = core::Config::from_yaml(
      "phantom:\n  seed: 9\n  dims: [100, 90, 40]\n  spacing_mm: [2, 2, 4]\n  nodules: 7\n  nodule_min_diameter_mm: 5\n"
      "  nodule_max_diameter_mm: 9\n  noise_hu: 0\n  vessels: false\n",
      "test.yaml");
  const auto s = data::phantom_spec_from_config(cfg.section("phantom"));
  EXPECT_EQ(s.seed, 9u);
  EXPECT_EQ(s.dims, Eigen::Vector3i(100, 90, 40));
  EXPECT_EQ(s.spacing_mm, Eigen::Vector3d(2, 2, 4));
  EXPECT_EQ(s.nodules, 7);
  EXPECT_EQ(s.nodule_min_diameter_mm, 5);
  EXPECT_EQ(s.nodule_max_diameter_mm, 9);
  EXPECT_EQ(s.noise_hu, 0);
  EXPECT_FALSE(s.vessels);
  EXPECT_NO_THROW(cfg.check_no_unknown_keys());
  const auto d = data::phantom_spec_from_config(core::Config::from_yaml("{}", "empty.yaml"));
  EXPECT_EQ(d.dims, data::PhantomSpec{}.dims);
}

TEST(PhantomConfig, BadValuesAreConfigErrors) {
  EXPECT_THROW(data::phantom_spec_from_config(core::Config::from_yaml("dims: [1, 2]", "a.yaml")), core::ConfigError);
  EXPECT_THROW(data::phantom_spec_from_config(core::Config::from_yaml("dims: [8, 8, 8]", "b.yaml")), core::ConfigError);
  EXPECT_THROW(data::phantom_spec_from_config(
                   core::Config::from_yaml("nodule_min_diameter_mm: 30\nnodule_max_diameter_mm: 10", "c.yaml")),
               core::ConfigError);
  EXPECT_THROW(data::phantom_spec_from_config(core::Config::from_yaml("noise_hu: lots", "d.yaml")), core::ConfigError);
}
