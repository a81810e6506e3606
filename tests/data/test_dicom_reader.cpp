#include <gtest/gtest.h>

#include <chrono>

#include "xraylift/data/dicom.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;

TEST(DicomReader, ReadsTheLidcSample) {
  XL_REQUIRE_LIDC_SAMPLE(dir);
  const auto t0 = std::chrono::steady_clock::now();
  const data::DicomSeries s = data::read_dicom_series(dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("read %zu slices in %.3f s\n", s.slices.size(), seconds);
  for (const auto& w : s.warnings) std::printf("warning: %s\n", w.c_str());
  EXPECT_EQ(s.hu.dims(), Eigen::Vector3i(512, 512, 133));
  EXPECT_NEAR(s.hu.spacing().x(), 0.703125, 1e-6);
  EXPECT_NEAR(s.hu.spacing().y(), 0.703125, 1e-6);
  EXPECT_NEAR(s.hu.spacing().z(), 2.5, 1e-6);
  EXPECT_TRUE(s.hu.geometry().axis_aligned());
  EXPECT_NEAR(s.hu.geometry().center_world().norm(), 0.0, 1e-9);
  ASSERT_EQ(s.slices.size(), 133u);
  EXPECT_NEAR(s.slices.front().z_mm, -340.0, 1e-3);
  EXPECT_NEAR(s.slices.back().z_mm, -10.0, 1e-3);
  EXPECT_NEAR(s.scanner_origin_offset_mm.z(), -175.0, 1e-3);
  for (std::size_t n = 1; n < s.slices.size(); ++n) EXPECT_LT(s.slices[n - 1].z_mm, s.slices[n].z_mm);
  EXPECT_FALSE(s.slices.front().sop_uid.empty());
  // HU: the padding (63536 stored) became air, nothing brighter than dense bone, air around -1000.
  int lo = 32767, hi = -32768;
  std::int64_t air = 0;
  for (std::int16_t v : s.hu.values()) {
    lo = std::min<int>(lo, v);
    hi = std::max<int>(hi, v);
    air += (v < -900);
  }
  EXPECT_GE(lo, -1024);
  EXPECT_LE(hi, 3500);
  EXPECT_GT(hi, 300);  // there is bone
  EXPECT_GT(double(air) / s.hu.size(), 0.2);
  // The corner voxels (outside the scan circle: padding) are air.
  EXPECT_LE(s.hu.at(0, 0, 0), -900);
  EXPECT_LE(s.hu.at(511, 511, 132), -900);
  // Mid-body voxel: soft tissue or bone, not air (patient is centred in the field of view).
  const auto c = s.hu.world_to_index(Eigen::Vector3d(0, 60, 0) - Eigen::Vector3d(0, 0, 0));
  EXPECT_GT(s.hu.at(int(c.x()), int(c.y()), int(c.z())), -300);
  // World mapping of a pixel: the centre pixel of the middle slice is near the world origin.
  const Eigen::Vector3d p = data::dicom_pixel_to_world(s, 255.5, 255.5, s.scanner_origin_offset_mm.z());
  EXPECT_LT(p.norm(), 1e-6);
}
