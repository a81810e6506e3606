#include <gtest/gtest.h>

#include "xraylift/data/synthetic_lidc.hpp"
#include "xraylift/testing/phantoms.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

// The round trip: phantom with known nodules -> DICOM + XML -> real readers -> same truth.
TEST(SyntheticLidc, RoundTripThroughTheRealReaders) {
  const auto ph = xraylift::testing::make_phantom(11, {128, 128, 48}, {2.6, 2.2, 6.5}, 4, 10, 24);
  ASSERT_GE(ph.nodules.size(), 3u);
  const fs::path dir = xraylift::testing::scratch_dir("synthetic_lidc_round_trip");
  const auto w = data::write_phantom_as_lidc(dir / "case", ph);

  const auto series = data::read_dicom_series(w.dicom_dir);
  EXPECT_TRUE(series.warnings.empty()) << ::testing::PrintToString(series.warnings);
  ASSERT_EQ(series.hu.dims(), ph.ct.hu.dims());
  EXPECT_TRUE(series.hu.spacing().isApprox(ph.ct.hu.spacing(), 1e-6));
  EXPECT_EQ(series.hu.values(), ph.ct.hu.values());  // int16 HU written exactly
  EXPECT_TRUE(series.scanner_origin_offset_mm.isApprox(Eigen::Vector3d(0, 0, -180), 1e-6));

  const auto a = data::read_lidc_xml(w.xml_file);
  EXPECT_EQ(a.sessions, 4);
  EXPECT_EQ(a.series_uid, series.series_uid);
  const auto res = data::group_lidc_nodules(a, series);
  EXPECT_TRUE(res.warnings.empty()) << ::testing::PrintToString(res.warnings);
  ASSERT_EQ(res.nodules.size(), ph.nodules.size());
  const Eigen::Vector3d sp = series.hu.spacing();
  for (const auto& truth : ph.nodules) {
    const data::LidcNodule* match = nullptr;
    for (const auto& n : res.nodules)
      if (n.box.contains(truth.truth.box.center)) match = &n;
    ASSERT_NE(match, nullptr) << truth.truth.id;
    EXPECT_EQ(match->readers, 4);
    EXPECT_EQ(match->point_readers, 0);
    EXPECT_FALSE(match->ignore);
    // Both boxes are unions of voxel cells, so they can only differ by whole voxels: within half a voxel
    // means the same cells (the consensus of >= 2 of the 4 simulated readers is the exact outline's mask).
    for (int ax = 0; ax < 3; ++ax) {
      EXPECT_LT(std::abs(match->box.min()[ax] - truth.truth.box.min()[ax]), 0.5 * sp[ax])
          << truth.truth.id << " axis " << ax;
      EXPECT_LT(std::abs(match->box.max()[ax] - truth.truth.box.max()[ax]), 0.5 * sp[ax])
          << truth.truth.id << " axis " << ax;
    }
    // pylidc's diameter of an outline drawn just outside the nodule spans the nodule's cells plus about one
    // pixel (the outline's centres lie half a pixel outside on each side).
    const double in_plane = std::max(sp.x(), sp.y());
    const double extent = std::max(truth.truth.box.size.x(), truth.truth.box.size.y());
    EXPECT_GE(match->diameter_mm, extent - 1e-6) << truth.truth.id;
    EXPECT_LE(match->diameter_mm, std::hypot(truth.truth.box.size.x(), truth.truth.box.size.y()) + 2 * in_plane)
        << truth.truth.id;
  }
  EXPECT_EQ(res.non_nodules.size(), 1u);
  EXPECT_FALSE(res.non_nodules[0].sized);
}

TEST(SyntheticLidc, SmallNodulesBecomeSinglePointMarks) {
  auto spec = xraylift::testing::phantom_spec(4, {160, 128, 80}, {1.2, 1.2, 1.5}, 2, 2.6, 2.9, false);
  spec.noise_hu = 0;
  auto ph = data::generate_phantom(spec);
  // Small nodules may paint no voxel at this spacing; make sure at least one exists.
  ASSERT_FALSE(ph.nodules.empty());
  std::vector<data::DicomSlice> slices;
  for (int k = 0; k < ph.ct.hu.dims().z(); ++k)
    slices.push_back({core::cat("1.9.", k), ph.ct.hu.index_to_world(Eigen::Vector3d(0, 0, k)).z(), ""});
  const auto a = data::simulate_readers(ph, slices, "1.9", "1.8");
  for (const auto& m : a.marks) {
    EXPECT_TRUE(m.single_point());
    EXPECT_FALSE(m.characteristics.has_value());
  }
  EXPECT_EQ(a.marks.size(), 4 * ph.nodules.size());
}
