#include <gtest/gtest.h>

#include "xraylift/data/dicom.hpp"
#include "xraylift/data/insert.hpp"
#include "xraylift/data/lidc_import.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;

namespace {
void check_inserted(const data::Case& before, const data::InsertResult& r, int expected) {
  ASSERT_EQ(int(r.inserted.size()), expected);
  EXPECT_EQ(r.ct.nodules.size(), before.nodules.size() + r.inserted.size());
  EXPECT_EQ(r.ct.meta["source"], "insert");
  const auto& g = r.ct.hu.geometry();
  for (const auto& n : r.inserted) {
    EXPECT_TRUE(n.truth.box.contains(n.center_mm));
    EXPECT_GT(n.voxels, 0);
    // The truth box is about the nodule's size (lobulation/spikes make it larger than 2r, never much smaller).
    for (int a = 0; a < 3; ++a) EXPECT_GE(n.truth.box.size[a], std::min(1.2 * n.radius_mm, g.spacing[a]) - 1e-9);
    const Eigen::Vector3d c = g.world_to_index(n.center_mm);
    const int i = int(std::lround(c.x())), j = int(std::lround(c.y())), k = int(std::lround(c.z()));
    const int now = r.ct.hu.at(i, j, k), was = before.hu.at(i, j, k);
    EXPECT_GT(now, was + 200) << n.truth.id << " kind "
                              << data::to_string(n.kind);  // denser than the parenchyma it replaced
    EXPECT_LT(was, -500);                                  // it was placed in parenchyma
    EXPECT_EQ(n.truth.texture, data::to_string(n.kind));   // the truth carries the texture evaluation breaks down by
  }
}
}  // namespace

TEST(Insert, IntoTheRealSample) {
  XL_REQUIRE_LIDC_SAMPLE(dir);
  const auto s = data::read_dicom_series(dir);
  const data::Case ct = data::case_from_series(s, "LIDC-IDRI-0001");
  data::InsertSpec spec;
  spec.seed = 5;
  spec.nodules = 3;
  const auto r = data::insert_nodules(ct, spec);
  check_inserted(ct, r, 3);
}

TEST(Insert, IntoAPhantomWithoutNodules) {
  data::PhantomSpec p;
  p.dims = {128, 128, 48};
  p.spacing_mm = {2.6, 2.2, 6.5};
  p.nodules = 0;
  p.seed = 2;
  const auto ph = data::generate_phantom(p);
  data::InsertSpec spec;
  spec.nodules = 2;
  spec.min_diameter_mm = 8;
  spec.max_diameter_mm = 14;
  const auto r = data::insert_nodules(ph.ct, spec);
  check_inserted(ph.ct, r, 2);
  EXPECT_EQ(data::insert_nodules(ph.ct, spec).ct.hu.values(), r.ct.hu.values());  // deterministic
}

TEST(Insert, NoLungsIsAClearError) {
  data::Case c;
  c.id = "water";
  c.hu = core::VolumeI16(data::case_geometry({64, 64, 20}, {1, 1, 2}), 0);
  try {
    data::insert_nodules(c, {});
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no lung parenchyma"), std::string::npos) << e.what();
  }
  data::InsertSpec bad;
  bad.nodules = 0;
  EXPECT_THROW(data::insert_nodules(c, bad), core::ConfigError);
}
