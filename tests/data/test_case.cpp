#include <gtest/gtest.h>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/data/case.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {
data::Case small_case() {
  data::Case c;
  c.id = "unit-0001";
  c.hu = core::VolumeI16(data::case_geometry({6, 5, 4}, {0.7, 0.7, 2.5}), -1000);
  c.hu.at(2, 2, 2) = 40;
  core::BoxRecord r;
  r.box = core::Box3D{{1, 2, 3}, {4, 5, 6}};
  r.id = "n1";
  r.readers = 3;
  c.nodules.push_back(r);
  c.meta = {{"source", "unit"}};
  return c;
}
}  // namespace

TEST(Case, SaveLoadRoundTrip) {
  const fs::path dir = xraylift::testing::scratch_dir("case_round_trip") / "unit-0001";
  const auto c = small_case();
  data::save_case(dir, c);
  const auto r = data::load_case(dir);
  EXPECT_EQ(r.id, c.id);
  EXPECT_EQ(r.hu.values(), c.hu.values());
  ASSERT_EQ(r.nodules.size(), 1u);
  EXPECT_TRUE(r.nodules[0].box.center.isApprox(c.nodules[0].box.center));
  EXPECT_EQ(r.nodules[0].readers, 3);
  EXPECT_EQ(r.meta["source"], "unit");
  EXPECT_NEAR(r.hu.geometry().center_world().norm(), 0.0, 1e-9);
  // Overwriting replaces the folder whole and leaves no temporary folders behind.
  auto c2 = c;
  c2.nodules.clear();
  data::save_case(dir, c2);
  EXPECT_TRUE(data::load_case(dir).nodules.empty());
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(Case, RejectsUncentredVolumesAndBadFolders) {
  const fs::path root = xraylift::testing::scratch_dir("case_bad");
  auto c = small_case();
  c.hu.geometry().origin += Eigen::Vector3d(5, 0, 0);
  EXPECT_THROW(data::save_case(root / "x", c), core::InputError);
  EXPECT_FALSE(fs::exists(root / "x"));
  EXPECT_THROW(data::load_case(root / "missing"), core::InputError);
  data::save_case(root / "y", small_case());
  core::write_file_atomic(root / "y" / "case.json", "{ not json");
  try {
    data::load_case(root / "y");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("case.json"), std::string::npos) << e.what();
  }
}

TEST(Case, LabelsAreSavedInTheSameStep) {
  const fs::path dir = xraylift::testing::scratch_dir("case_labels") / "c";
  const auto c = small_case();
  core::VolumeU8 labels(c.hu.geometry(), 2);
  data::save_case(dir, c, labels);
  EXPECT_EQ(data::read_nrrd_u8(dir / "labels.nrrd").values(), labels.values());
  core::VolumeU8 wrong(data::case_geometry({3, 3, 3}, {1, 1, 1}), 0);
  EXPECT_THROW(data::save_case(dir, c, wrong), core::InputError);
}
