#include <gtest/gtest.h>

#include <cstring>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/data/lidc.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {
const char* kSample = R"(<?xml version="1.0" encoding="UTF-8"?>
<LidcReadMessage uid="1.3.6.1.4.1.14519.5.2.1.6279.6001.1307390687803.0" xmlns="http://www.nih.gov"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <ResponseHeader>
    <Version>1.8.1</Version>
    <SeriesInstanceUid>1.2.3.4</SeriesInstanceUid>
    <StudyInstanceUID>1.2.3</StudyInstanceUID>
  </ResponseHeader>
  <readingSession>
    <annotationVersion>3.12</annotationVersion>
    <servicingRadiologistID>540461523</servicingRadiologistID>
    <unblindedReadNodule>
      <noduleID>Nodule 001</noduleID>
      <characteristics>
        <subtlety>5</subtlety><internalStructure>1</internalStructure><calcification>6</calcification>
        <sphericity>3</sphericity><margin>3</margin><lobulation>3</lobulation><spiculation>4</spiculation>
        <texture>5</texture><malignancy>5</malignancy>
      </characteristics>
      <roi>
        <imageZposition>-125.000000 </imageZposition>
        <imageSOP_UID>1.2.3.4.7</imageSOP_UID>
        <inclusion>TRUE</inclusion>
        <edgeMap><xCoord>312</xCoord><yCoord>355</yCoord></edgeMap>
        <edgeMap><xCoord>313</xCoord><yCoord>354</yCoord></edgeMap>
        <edgeMap><xCoord>314</xCoord><yCoord>355</yCoord></edgeMap>
      </roi>
      <roi>
        <imageZposition>-125.000000</imageZposition>
        <imageSOP_UID>1.2.3.4.7</imageSOP_UID>
        <inclusion>FALSE</inclusion>
        <edgeMap><xCoord>313</xCoord><yCoord>355</yCoord></edgeMap>
      </roi>
    </unblindedReadNodule>
    <nonNodule>
      <nonNoduleID>Non-nodule 001</nonNoduleID>
      <imageZposition>-100.000000 </imageZposition>
      <imageSOP_UID>1.2.3.4.17</imageSOP_UID>
      <locus><xCoord>100</xCoord><yCoord>200</yCoord></locus>
    </nonNodule>
  </readingSession>
  <readingSession>
    <servicingRadiologistID>anon</servicingRadiologistID>
    <unblindedReadNodule>
      <noduleID>IL057_127364</noduleID>
      <roi>
        <imageZposition>-122.5</imageZposition>
        <imageSOP_UID>1.2.3.4.8</imageSOP_UID>
        <inclusion>TRUE</inclusion>
        <edgeMap><xCoord>250</xCoord><yCoord>260</yCoord></edgeMap>
      </roi>
    </unblindedReadNodule>
  </readingSession>
</LidcReadMessage>
)";
}  // namespace

TEST(LidcXml, ParsesTheSchema) {
  const auto a = data::parse_lidc_xml(kSample, "sample.xml");
  EXPECT_EQ(a.series_uid, "1.2.3.4");
  EXPECT_EQ(a.study_uid, "1.2.3");
  EXPECT_EQ(a.sessions, 2);
  ASSERT_EQ(a.marks.size(), 2u);
  const auto& m = a.marks[0];
  EXPECT_EQ(m.reader, 0);
  EXPECT_EQ(m.reader_id, "540461523");
  EXPECT_EQ(m.nodule_id, "Nodule 001");
  ASSERT_TRUE(m.characteristics.has_value());
  EXPECT_EQ(m.characteristics->malignancy, 5);
  EXPECT_EQ(m.characteristics->calcification, 6);
  ASSERT_EQ(m.rois.size(), 2u);
  EXPECT_DOUBLE_EQ(m.rois[0].z_mm, -125.0);  // trailing space tolerated
  EXPECT_TRUE(m.rois[0].inclusion);
  EXPECT_FALSE(m.rois[1].inclusion);
  ASSERT_EQ(m.rois[0].edge.size(), 3u);
  EXPECT_EQ(m.rois[0].edge[1], Eigen::Vector2d(313, 354));  // xCoord = column, yCoord = row
  EXPECT_FALSE(m.single_point());
  EXPECT_FALSE(a.marks[1].characteristics.has_value());
  EXPECT_TRUE(a.marks[1].single_point());
  EXPECT_EQ(a.marks[1].reader, 1);
  ASSERT_EQ(a.non_nodules.size(), 1u);
  EXPECT_EQ(a.non_nodules[0].locus, Eigen::Vector2d(100, 200));
  EXPECT_EQ(a.non_nodules[0].sop_uid, "1.2.3.4.17");
}

TEST(LidcXml, WriteThenParseIsTheSame) {
  const auto a = data::parse_lidc_xml(kSample, "sample.xml");
  const auto b = data::parse_lidc_xml(data::write_lidc_xml(a), "written.xml");
  EXPECT_EQ(b.series_uid, a.series_uid);
  EXPECT_EQ(b.sessions, a.sessions);
  ASSERT_EQ(b.marks.size(), a.marks.size());
  for (std::size_t i = 0; i < a.marks.size(); ++i) {
    EXPECT_EQ(b.marks[i].nodule_id, a.marks[i].nodule_id);
    EXPECT_EQ(b.marks[i].characteristics.has_value(), a.marks[i].characteristics.has_value());
    ASSERT_EQ(b.marks[i].rois.size(), a.marks[i].rois.size());
    for (std::size_t r = 0; r < a.marks[i].rois.size(); ++r) {
      EXPECT_EQ(b.marks[i].rois[r].edge, a.marks[i].rois[r].edge);
      EXPECT_EQ(b.marks[i].rois[r].inclusion, a.marks[i].rois[r].inclusion);
      EXPECT_EQ(b.marks[i].rois[r].sop_uid, a.marks[i].rois[r].sop_uid);
    }
  }
  EXPECT_EQ(b.non_nodules.size(), 1u);
}

TEST(LidcXml, RadiographMessagesAreSkippedWithANotice) {
  const std::string idri =
      R"(<?xml version="1.0"?><IdriReadMessage xmlns="http://www.nih.gov"><ResponseHeader/></IdriReadMessage>)";
  try {
    data::parse_lidc_xml(idri, "cxr.xml");
    FAIL();
  } catch (const data::SkippedAnnotationFile& e) {
    EXPECT_NE(std::string(e.what()).find("IdriReadMessage"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cxr.xml"), std::string::npos);
  }
}

TEST(LidcXml, MalformedFilesNameFileAndLine) {
  const fs::path dir = xraylift::testing::scratch_dir("lidc_xml_bad");
  core::write_file_atomic(dir / "broken.xml", "<LidcReadMessage>\n  <readingSession>\n</LidcReadMessage>\n");
  try {
    data::read_lidc_xml(dir / "broken.xml");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.xml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("malformed XML"), std::string::npos) << e.what();
  }
  std::string bad_z = kSample;
  bad_z.replace(bad_z.find("-122.5"), 6, "abc");
  try {
    data::parse_lidc_xml(bad_z, "z.xml");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("imageZposition"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("z.xml:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(data::parse_lidc_xml("<Other/>", "o.xml"), core::InputError);
  EXPECT_THROW(data::read_lidc_xml(dir / "missing.xml"), core::InputError);
  core::write_file_atomic(dir / "ok.xml", kSample);
  EXPECT_EQ(data::lidc_xml_series_uid(dir / "ok.xml"), "1.2.3.4");
  EXPECT_EQ(data::lidc_xml_series_uid(dir / "broken.xml"), "");
}

// Optional characteristics that are present but empty (<malignancy/>, <texture></texture>) are unknown ratings,
// not errors; a rating that is not a number is unknown too, with a warning naming file, line and element.
TEST(LidcXml, EmptyOrOddCharacteristicsDoNotDropTheFile) {
  std::string empty = kSample;
  empty.replace(empty.find("<malignancy>5</malignancy>"), std::strlen("<malignancy>5</malignancy>"), "<malignancy/>");
  empty.replace(empty.find("<texture>5</texture>"), std::strlen("<texture>5</texture>"), "<texture>  </texture>");
  empty.replace(empty.find("<margin>3</margin>"), std::strlen("<margin>3</margin>"), "<margin>n/a</margin>");
  const auto a = data::parse_lidc_xml(empty, "empty.xml");
  ASSERT_EQ(a.marks.size(), 2u);
  ASSERT_TRUE(a.marks[0].characteristics.has_value());
  EXPECT_EQ(a.marks[0].characteristics->malignancy, 0);
  EXPECT_EQ(a.marks[0].characteristics->texture, 0);
  EXPECT_EQ(a.marks[0].characteristics->margin, 0);
  EXPECT_EQ(a.marks[0].characteristics->subtlety, 5);
  bool warned = false;
  for (const auto& w : a.warnings)
    warned = warned || (w.find("empty.xml:") != std::string::npos && w.find("<margin>") != std::string::npos);
  EXPECT_TRUE(warned) << ::testing::PrintToString(a.warnings);
  // All ratings empty: no characteristics at all (as for a sub-3 mm nodule).
  const std::string blank = R"(<?xml version="1.0"?><LidcReadMessage xmlns="http://www.nih.gov"><ResponseHeader>
    <SeriesInstanceUid>1.2</SeriesInstanceUid></ResponseHeader><readingSession><unblindedReadNodule>
    <noduleID>n</noduleID><characteristics><subtlety/><malignancy></malignancy></characteristics>
    <roi><imageZposition>1</imageZposition><imageSOP_UID>1.2.1</imageSOP_UID><inclusion>TRUE</inclusion>
    <edgeMap><xCoord>5</xCoord><yCoord>6</yCoord></edgeMap></roi></unblindedReadNodule>
  </readingSession></LidcReadMessage>)";
  const auto b = data::parse_lidc_xml(blank, "blank.xml");
  ASSERT_EQ(b.marks.size(), 1u);
  EXPECT_FALSE(b.marks[0].characteristics.has_value());
}
