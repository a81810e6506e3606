#include <gtest/gtest.h>

#include "dicom_test_util.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

TEST(DicomWriter, RoundTripThroughTheReader) {
  const fs::path dir = xraylift::testing::scratch_dir("dicom_writer_round_trip");
  const auto v = testing_dicom::ramp_volume();
  data::DicomWriteOptions o;
  o.scanner_origin_offset_mm = {12.5, -30.0, -175.0};
  const auto written = data::write_dicom_series(dir / "series", v, o);
  ASSERT_EQ(written.size(), 8u);
  const auto s = data::read_dicom_series(dir / "series");
  EXPECT_TRUE(s.warnings.empty());
  EXPECT_EQ(s.hu.dims(), v.dims());
  EXPECT_TRUE(s.hu.spacing().isApprox(v.spacing(), 1e-6));
  EXPECT_EQ(s.hu.values(), v.values());
  EXPECT_TRUE(s.scanner_origin_offset_mm.isApprox(o.scanner_origin_offset_mm, 1e-6))
      << s.scanner_origin_offset_mm.transpose();
  ASSERT_EQ(s.slices.size(), written.size());
  for (std::size_t n = 0; n < written.size(); ++n) {
    EXPECT_EQ(s.slices[n].sop_uid, written[n].sop_uid);
    EXPECT_NEAR(s.slices[n].z_mm, written[n].z_mm, 1e-6);
  }
  // Deterministic UIDs: the same options give the same series.
  const auto again = data::write_dicom_series(dir / "again", v, o);
  EXPECT_EQ(again.front().sop_uid, written.front().sop_uid);
  EXPECT_EQ(data::derived_uid("a"), data::derived_uid("a"));
  EXPECT_NE(data::derived_uid("a"), data::derived_uid("b"));
  EXPECT_LE(data::derived_uid("x").size(), 64u);
}
