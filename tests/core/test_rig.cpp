#include <gtest/gtest.h>

#include <cmath>

#include "xraylift/core/rig.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift::core;

TEST(Rig, SeedRingGeometry) {
  const Rig rig = Rig::ring(RingSpec{});
  ASSERT_EQ(rig.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    const double th = 36.0 * i * M_PI / 180.0;
    const Eigen::Vector3d expected(300 * std::sin(th), -300 * std::cos(th), 0);
    EXPECT_NEAR((rig[i].source() - expected).norm(), 0, 1e-9) << i;
    EXPECT_NEAR(rig[i].intrinsics().fx, 768.0, 1e-12);
  }
  // View 0 is AP (source anterior, -y); view 1 has turned toward the patient's left (+x).
  EXPECT_LT(rig[0].source().y(), 0);
  EXPECT_GT(rig[1].source().x(), 0);
}

TEST(Rig, FromConfigRingAndOverrides) {
  Config c = Config::from_yaml("rig:\n  type: ring\n  views: 4\n  sad_mm: 1000\n  sdd_mm: 1500\n", "test.yaml");
  c.set("rig.detector.width=256");
  const Rig rig = Rig::from_config(c.section("rig"));
  EXPECT_EQ(rig.size(), 4u);
  EXPECT_EQ(rig[0].width(), 256);
  EXPECT_NEAR(rig[0].source().norm(), 1000, 1e-9);
  EXPECT_NO_THROW(c.check_no_unknown_keys());
}

TEST(Rig, FromConfigPoses) {
  Config c = Config::from_yaml(R"(
rig:
  type: poses
  sdd_mm: 600
  detector: {width: 128, height: 96, pixel_size_mm: 2.0}
  poses:
    - {name: frontal, source_mm: [0, -300, 0]}
    - {name: lateral, source_mm: [300, 0, 0], target_mm: [0, 0, 0]}
)",
                               "poses.yaml");
  const Rig rig = Rig::from_config(c.section("rig"));
  ASSERT_EQ(rig.size(), 2u);
  EXPECT_EQ(rig[1].name(), "lateral");
  EXPECT_EQ(rig[1].height(), 96);
  EXPECT_NEAR((rig[1].viewing_direction() - Eigen::Vector3d(-1, 0, 0)).norm(), 0, 1e-12);
  EXPECT_NO_THROW(c.check_no_unknown_keys());
}

TEST(Rig, ShippedRigConfigsLoad) {
  const auto dir = xraylift::testing::source_dir() / "configs" / "rig";
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    Config c = Config::load(entry.path());
    const Rig rig = Rig::from_config(c.section("rig"));
    EXPECT_GE(rig.size(), 2u) << entry.path();
    EXPECT_NO_THROW(c.check_no_unknown_keys()) << entry.path();
    ++loaded;
  }
  EXPECT_GE(loaded, 3);
}

TEST(Rig, RejectsBadRigs) {
  RingSpec s;
  s.sdd_mm = 200;  // detector in front of the isocentre
  EXPECT_THROW(Rig::ring(s), InputError);
  s = RingSpec{};
  s.views = 0;
  EXPECT_THROW(Rig::ring(s), InputError);
  s = RingSpec{};
  s.sad_mm = NAN;
  EXPECT_THROW(Rig::ring(s), InputError);
  Config c = Config::from_yaml("rig: {type: spiral}", "bad.yaml");
  try {
    Rig::from_config(c.section("rig"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("spiral"), std::string::npos) << e.what();
  }
}

TEST(Rig, DetectorWidthResamplesTheSameField) {
  Config c = Config::load(xraylift::testing::source_dir() / "configs" / "rig" / "frontal_lateral.yaml");
  const Rig full = Rig::from_config(c.section("rig"));
  const Rig small = full.with_detector_width(256);
  ASSERT_EQ(small.size(), full.size());
  const Eigen::Vector3d p(31, -12, 57);
  for (std::size_t v = 0; v < full.size(); ++v) {
    EXPECT_EQ(small[v].width(), 256);
    EXPECT_EQ(small[v].height(), 256);
    EXPECT_EQ(small[v].name(), full[v].name());
    // A world point lands at the same fraction of the image.
    EXPECT_NEAR((small[v].project(p) - full[v].project(p) * 0.25).norm(), 0, 1e-9);
  }
  EXPECT_THROW(full.with_detector_width(0), InputError);
}

// Catches Rig::from_config reading views or detector sizes without their range: rig.views = 100000000 was
// killed by the OOM killer without a message (issue 23).
TEST(Rig, AbsurdCountsAreConfigErrorsBeforeAllocation) {
  for (const char* yaml : {"views: 100000000", "views: -3", "detector: {width: 99999999}", "detector: {height: 0}",
                           "detector: {pixel_size_mm: .nan}"}) {
    const Config c = Config::from_yaml(yaml, "rig.yaml");
    try {
      Rig::from_config(c);
      ADD_FAILURE() << yaml << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("(from rig.yaml), expected"), std::string::npos) << e.what();
    }
  }
}
