#include <gtest/gtest.h>

#include "xraylift/data/contour.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/data/lidc.hpp"

using namespace xraylift;

namespace {
// A series in memory: 64 x 64 x 20, 0.7 x 0.7 x 2.5 mm, slices "1.2.3.4.<k>".
data::DicomSeries make_series() {
  data::DicomSeries s;
  s.hu = core::VolumeI16(core::VolumeGeometry::centered({64, 64, 20}, {0.7, 0.7, 2.5}), -800);
  s.series_uid = "1.2.3.4";
  s.scanner_origin_offset_mm = {10, -20, -100};
  s.first_position_mm = s.hu.geometry().origin + s.scanner_origin_offset_mm;
  s.pixel_spacing_mm = {0.7, 0.7};
  for (int k = 0; k < 20; ++k) s.slices.push_back({core::cat("1.2.3.4.", k), s.first_position_mm.z() + 2.5 * k, ""});
  return s;
}

// A reader's disc drawn the LIDC way: the outline runs through the pixels just outside the disc.
data::LidcMark disc_mark(const data::DicomSeries& s, int reader, double col, double row, double radius_px, int k0,
                         int k1) {
  data::LidcMark m;
  m.reader = reader;
  m.nodule_id = core::cat("r", reader, "-", col);
  data::LidcCharacteristics c;
  c.malignancy = 2 + reader;
  m.characteristics = c;
  for (int k = k0; k <= k1; ++k) {
    std::vector<std::uint8_t> mask(64 * 64, 0);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x)
        mask[y * 64 + x] = (x - col) * (x - col) + (y - row) * (y - row) <= radius_px * radius_px;
    for (const auto& o : data::outside_outlines(mask, 64, 64)) {
      data::LidcRoi roi;
      roi.z_mm = s.slices[k].z_mm;
      roi.sop_uid = s.slices[k].sop_uid;
      roi.edge = o;
      m.rois.push_back(roi);
    }
  }
  return m;
}

data::LidcMark point_mark(const data::DicomSeries& s, int reader, double col, double row, int k) {
  data::LidcMark m;
  m.reader = reader;
  m.nodule_id = core::cat("small-", reader);
  data::LidcRoi roi;
  roi.z_mm = s.slices[k].z_mm;
  roi.sop_uid = s.slices[k].sop_uid;
  roi.edge = {Eigen::Vector2d(col, row)};
  m.rois.push_back(roi);
  return m;
}
}  // namespace

TEST(LidcNodules, FourReadersOfOneNoduleMakeOneNoduleWithFourReaders) {
  const auto s = make_series();
  data::LidcAnnotations a;
  a.file = "four.xml";
  a.sessions = 4;
  a.marks = {disc_mark(s, 0, 30, 30, 5, 8, 11), disc_mark(s, 1, 30, 30, 6, 8, 12), disc_mark(s, 2, 31, 30, 5, 9, 11),
             disc_mark(s, 3, 30, 31, 4, 8, 11)};
  const auto r = data::group_lidc_nodules(a, s);
  ASSERT_EQ(r.nodules.size(), 1u);
  const auto& n = r.nodules[0];
  EXPECT_EQ(n.readers, 4);
  EXPECT_EQ(n.reader_boxes.size(), 4u);
  EXPECT_EQ(n.characteristics.size(), 4u);
  EXPECT_FALSE(n.ignore);
  EXPECT_FALSE(n.small);
  // Consensus (>= 2 of 4): slices 8..11; in-plane columns 25..36 (column 24 is inside reader 2's radius-6 disc
  // only; column 36 inside readers 2 and 3, the latter centred at 31): 12 pixels. Each reader's outline, drawn
  // just outside its disc, reads back as exactly that disc.
  EXPECT_NEAR(n.box.size.z(), 4 * 2.5, 1e-9);
  EXPECT_NEAR(n.box.size.x(), 12 * 0.7, 1e-9);
  // pylidc's diameter per reader (outline points just outside the disc), averaged over the four readers.
  double sum = 0;
  for (const auto& rb : n.reader_boxes) {
    EXPECT_GT(rb.diameter_mm, rb.box.size.x() - 1e-9);  // the outline lies outside the reader's cells
    sum += rb.diameter_mm;
  }
  EXPECT_NEAR(n.diameter_mm, sum / 4, 1e-9);
  const Eigen::Vector3d expected = s.hu.index_to_world(Eigen::Vector3d(30, 30, 9.5));
  EXPECT_LT((n.box.center - expected).norm(), 0.8) << n.box.center.transpose() << " vs " << expected.transpose();
  EXPECT_GT(n.volume_mm3, 0);
  EXPECT_NEAR(n.equivalent_diameter_mm, std::cbrt(6 * n.volume_mm3 / M_PI), 1e-9);
  const auto rec = n.record();
  EXPECT_EQ(rec.readers, 4);
  EXPECT_FALSE(rec.ignore);
  EXPECT_EQ(n.to_json()["reader_boxes"].size(), 4u);
}

TEST(LidcNodules, TextureIsTheMedianRatingInThreeClasses) {
  auto texture_of = [](std::vector<int> ratings) {
    data::LidcNodule n;
    for (std::size_t r = 0; r < ratings.size(); ++r) {
      data::LidcCharacteristics c;
      c.texture = ratings[r];
      n.characteristics.emplace_back(int(r), c);
    }
    return n.texture();
  };
  EXPECT_EQ(texture_of({}), "");
  EXPECT_EQ(texture_of({0, 0}), "");  // rated by nobody
  EXPECT_EQ(texture_of({5, 5, 4}), "solid");
  EXPECT_EQ(texture_of({1, 2, 2}), "ground-glass");
  EXPECT_EQ(texture_of({3}), "part-solid");
  EXPECT_EQ(texture_of({1, 2, 4, 5}), "part-solid");  // median 3
  EXPECT_EQ(texture_of({4, 5, 0}), "solid");          // an unrated reader does not count
  EXPECT_EQ(texture_of({1, 2}), "ground-glass");
  EXPECT_EQ(texture_of({2, 3}), "part-solid");
  data::LidcNodule n;
  data::LidcCharacteristics c;
  c.texture = 5;
  n.characteristics.emplace_back(0, c);
  EXPECT_EQ(n.record().texture, "solid");
}

TEST(LidcNodules, TwoNearbyButDistinctNodulesStayTwo) {
  const auto s = make_series();
  data::LidcAnnotations a;
  a.file = "two.xml";
  a.sessions = 2;
  // Outlines 2 px (1.4 mm) apart: closer than the initial 2.5 mm tolerance, so it must shrink to split them.
  for (int reader = 0; reader < 2; ++reader) {
    a.marks.push_back(disc_mark(s, reader, 20, 30, 4, 5, 7));
    a.marks.push_back(disc_mark(s, reader, 31, 30, 4, 5, 7));
  }
  const auto r = data::group_lidc_nodules(a, s);
  ASSERT_EQ(r.nodules.size(), 2u);
  for (const auto& n : r.nodules) EXPECT_EQ(n.readers, 2);
  EXPECT_LT(r.nodules[0].box.max().x(), r.nodules[1].box.min().x());
}

TEST(LidcNodules, SingleReaderNodulesFarApartStaySeparate) {
  const auto s = make_series();
  data::LidcAnnotations a;
  a.file = "far.xml";
  a.sessions = 1;
  a.marks = {disc_mark(s, 0, 15, 15, 4, 2, 4), disc_mark(s, 0, 45, 45, 4, 12, 14)};
  const auto r = data::group_lidc_nodules(a, s);
  ASSERT_EQ(r.nodules.size(), 2u);
  data::LidcNoduleOptions o;
  o.min_readers = 3;
  for (const auto& n : data::group_lidc_nodules(a, s, o).nodules) EXPECT_TRUE(n.ignore);  // 1 reader < 3
}

TEST(LidcNodules, SubThreeMillimetrePointMarks) {
  const auto s = make_series();
  data::LidcAnnotations a;
  a.file = "small.xml";
  a.sessions = 4;
  // Three readers click within ~1.5 mm of each other; the fourth marks something else far away.
  a.marks = {point_mark(s, 0, 40, 40, 6), point_mark(s, 1, 41, 41, 6), point_mark(s, 2, 40, 42, 6),
             point_mark(s, 3, 10, 50, 15)};
  const auto r = data::group_lidc_nodules(a, s);
  ASSERT_EQ(r.nodules.size(), 2u);
  const auto& three = r.nodules[0].point_readers == 3 ? r.nodules[0] : r.nodules[1];
  // LUNA16 counts readers who marked a nodule as >= 3 mm: point marks are reported apart.
  EXPECT_EQ(three.readers, 0);
  EXPECT_EQ(three.point_readers, 3);
  EXPECT_TRUE(three.small);
  EXPECT_TRUE(three.ignore);
  // No measured size: the box is the 10 mm exclusion region (LUNA16's diameter for size-less findings).
  EXPECT_NEAR(three.box.size.x(), 10.0, 1e-9);
  EXPECT_FALSE(three.record().sized);
  EXPECT_EQ(three.to_json()["point_readers"], 3);
  const Eigen::Vector3d expected = data::dicom_pixel_to_world(s, 40 + 1.0 / 3, 41, s.slices[6].z_mm);
  EXPECT_LT((three.center_mm - expected).norm(), 1e-6);
  for (const auto& b : r.boxes()) EXPECT_TRUE(b.ignore);
}

TEST(LidcNodules, ExclusionRoisCutHoles) {
  const auto s = make_series();
  data::LidcAnnotations a;
  a.file = "hole.xml";
  a.sessions = 1;
  auto m = disc_mark(s, 0, 30, 30, 6, 10, 10);
  const auto full = data::group_lidc_nodules(
                        [&] {
                          auto b = a;
                          b.marks = {m};
                          return b;
                        }(),
                        s)
                        .nodules.at(0)
                        .volume_mm3;
  data::LidcRoi hole;
  hole.z_mm = s.slices[10].z_mm;
  hole.sop_uid = s.slices[10].sop_uid;
  hole.inclusion = false;
  hole.edge = {{29, 29}, {31, 29}, {31, 31}, {29, 31}};  // 3 x 3 pixels
  m.rois.push_back(hole);
  a.marks = {m};
  const auto r = data::group_lidc_nodules(a, s);
  ASSERT_EQ(r.nodules.size(), 1u);
  EXPECT_NEAR(full - r.nodules[0].volume_mm3, 9 * 0.7 * 0.7 * 2.5, 1e-9);
}

TEST(LidcNodules, UnknownSlicesWarnAndZIsTheFallback) {
  const auto s = make_series();
  data::LidcAnnotations a;
  a.file = "unknown.xml";
  a.sessions = 2;
  auto by_z = disc_mark(s, 0, 30, 30, 4, 6, 6);
  by_z.rois[0].sop_uid = "9.9.9";  // unknown SOP, but the z matches slice 6
  auto lost = disc_mark(s, 1, 30, 30, 4, 6, 6);
  lost.rois[0].sop_uid = "9.9.8";
  lost.rois[0].z_mm = 500;  // neither matches
  a.marks = {by_z, lost};
  a.non_nodules.push_back({1, "nn", s.slices[3].z_mm, s.slices[3].sop_uid, {12, 13}});
  const auto r = data::group_lidc_nodules(a, s);
  ASSERT_EQ(r.nodules.size(), 1u);
  EXPECT_EQ(r.nodules[0].readers, 1);
  bool warned = false;
  for (const auto& w : r.warnings)
    warned = warned || (w.find("unknown slice") != std::string::npos && w.find("unknown.xml") != std::string::npos);
  EXPECT_TRUE(warned) << ::testing::PrintToString(r.warnings);
  ASSERT_EQ(r.non_nodules.size(), 1u);
  EXPECT_TRUE(r.non_nodules[0].ignore);
  EXPECT_FALSE(r.non_nodules[0].sized);
  EXPECT_NEAR(r.non_nodules[0].box.size.x(), 10.0, 1e-9);
  EXPECT_EQ(r.non_nodules[0].label, "non-nodule");
  EXPECT_LT((r.non_nodules[0].box.center - s.hu.index_to_world(Eigen::Vector3d(12, 13, 3))).norm(), 1e-6);
}

// LIDC edge maps run just outside the nodule: the nodule is the pixels strictly inside (pylidc's boolean_mask
// leaves the contour points out); diameter = pylidc's Annotation.diameter, the longest distance between two
// points of one contour, with the pixel spacing. A rectangle outline of 11 x 5 pixels checks both by hand.
TEST(LidcNodules, ContourPointsAreOutsideAndTheDiameterIsPylidcs) {
  data::DicomSeries s = make_series();
  // Non-square pixels: columns 0.6 mm apart (world x), rows 0.9 mm apart (world y).
  s.hu = core::VolumeI16(core::VolumeGeometry::centered({64, 64, 20}, {0.6, 0.9, 2.5}), -800);
  s.first_position_mm = s.hu.geometry().origin + s.scanner_origin_offset_mm;
  s.pixel_spacing_mm = {0.9, 0.6};  // PixelSpacing = [row spacing, column spacing]
  data::LidcMark m;
  m.reader = 0;
  m.nodule_id = "rect";
  data::LidcRoi roi;
  roi.z_mm = s.slices[5].z_mm;
  roi.sop_uid = s.slices[5].sop_uid;
  for (int c = 20; c <= 30; ++c) roi.edge.emplace_back(c, 30);
  for (int r = 31; r <= 34; ++r) roi.edge.emplace_back(30, r);
  for (int c = 29; c >= 20; --c) roi.edge.emplace_back(c, 34);
  for (int r = 33; r >= 31; --r) roi.edge.emplace_back(20, r);
  m.rois.push_back(roi);
  data::LidcAnnotations a;
  a.file = "rect.xml";
  a.sessions = 1;
  a.marks = {m};
  const auto r = data::group_lidc_nodules(a, s);
  ASSERT_EQ(r.nodules.size(), 1u);
  const auto& n = r.nodules[0];
  // Strictly inside: columns 21..29, rows 31..33 = 9 x 3 pixels.
  EXPECT_EQ(n.reader_boxes[0].voxels, 27);
  EXPECT_NEAR(n.box.size.x(), 9 * 0.6, 1e-9);
  EXPECT_NEAR(n.box.size.y(), 3 * 0.9, 1e-9);
  EXPECT_NEAR(n.volume_mm3, 27 * 0.6 * 0.9 * 2.5, 1e-9);
  // pylidc: corner (20, 30) to corner (30, 34): 10 columns and 4 rows.
  EXPECT_NEAR(n.diameter_mm, std::hypot(10 * 0.6, 4 * 0.9), 1e-9);
  EXPECT_NEAR(n.reader_boxes[0].diameter_mm, n.diameter_mm, 1e-9);
  // The option to count the contour points too: all 11 x 5 pixels; the diameter does not change.
  data::LidcNoduleOptions with;
  with.include_contour_points = true;
  const auto w = data::group_lidc_nodules(a, s, with);
  EXPECT_EQ(w.nodules.at(0).reader_boxes[0].voxels, 55);
  EXPECT_NEAR(w.nodules[0].box.size.x(), 11 * 0.6, 1e-9);
  EXPECT_NEAR(w.nodules[0].diameter_mm, n.diameter_mm, 1e-9);
}

// Readers who contoured a nodule count; readers who only put a point on it are reported apart (LUNA16's
// "accepted by 3 of 4 readers" means marked as >= 3 mm).
TEST(LidcNodules, OnlyContouringReadersCount) {
  const auto s = make_series();
  data::LidcAnnotations a;
  a.file = "mixed.xml";
  a.sessions = 4;
  a.marks = {disc_mark(s, 0, 30, 30, 4, 8, 10), disc_mark(s, 1, 30, 30, 4, 8, 10), point_mark(s, 2, 30, 30, 9),
             point_mark(s, 3, 31, 30, 9)};
  data::LidcNoduleOptions luna;
  luna.min_readers = 3;
  const auto r = data::group_lidc_nodules(a, s, luna);
  ASSERT_EQ(r.nodules.size(), 1u);
  EXPECT_EQ(r.nodules[0].readers, 2);
  EXPECT_EQ(r.nodules[0].point_readers, 2);
  EXPECT_FALSE(r.nodules[0].small);
  EXPECT_TRUE(r.nodules[0].ignore);  // 2 contouring readers < 3, although four readers marked it
  EXPECT_EQ(r.nodules[0].record().readers, 2);
  EXPECT_TRUE(r.nodules[0].record().sized);
}
