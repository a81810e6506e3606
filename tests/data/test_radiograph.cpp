// Radiograph DICOM reading and writing (data/radiograph.hpp).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>

#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/data/radiograph.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {

// The call throws InputError (exit 3) and its message holds every fragment.
void expect_input_error(const std::function<void()>& call, const std::vector<std::string>& fragments) {
  try {
    call();
    ADD_FAILURE() << "no InputError";
  } catch (const core::ConfigError& e) {
    ADD_FAILURE() << "ConfigError (exit 2) instead of InputError: " << e.what();
  } catch (const core::InputError& e) {
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

core::Camera test_camera(int w, int h) {
  core::RingSpec s;
  s.views = 3;
  s.detector.width = w;
  s.detector.height = h;
  s.detector.pixel_size_mm = 4.0;
  return core::Rig::ring(s)[1];  // an oblique view (36 deg): every rotation entry matters
}

// A hand-made radiograph DICOM with the attributes a test varies (what other systems write).
struct Fake {
  int rows = 2, cols = 3;
  int bits_allocated = 16, bits_stored = 12;
  std::string photometric = "MONOCHROME2";
  std::string relationship;  // empty: absent
  std::string sign;          // empty: absent
  std::string slope, intercept;
  std::string pixel_spacing = "0.2\\0.3";
  std::string imager_spacing;
};

fs::path write_fake(const fs::path& file, const Fake& f, const std::vector<Uint16>& px) {
  DcmFileFormat ff;
  DcmDataset& d = *ff.getDataset();
  d.putAndInsertString(DCM_SOPClassUID, UID_DigitalXRayImageStorageForPresentation);
  d.putAndInsertString(DCM_SOPInstanceUID, "2.25.1");
  d.putAndInsertString(DCM_Modality, "DX");
  d.putAndInsertString(DCM_SamplesPerPixel, "1");
  d.putAndInsertString(DCM_PhotometricInterpretation, f.photometric.c_str());
  d.putAndInsertString(DCM_Rows, std::to_string(f.rows).c_str());
  d.putAndInsertString(DCM_Columns, std::to_string(f.cols).c_str());
  d.putAndInsertString(DCM_BitsAllocated, std::to_string(f.bits_allocated).c_str());
  d.putAndInsertString(DCM_BitsStored, std::to_string(f.bits_stored).c_str());
  d.putAndInsertString(DCM_HighBit, std::to_string(f.bits_stored - 1).c_str());
  d.putAndInsertString(DCM_PixelRepresentation, "0");
  if (!f.relationship.empty()) d.putAndInsertString(DCM_PixelIntensityRelationship, f.relationship.c_str());
  if (!f.sign.empty()) d.putAndInsertString(DCM_PixelIntensityRelationshipSign, f.sign.c_str());
  if (!f.slope.empty()) d.putAndInsertString(DCM_RescaleSlope, f.slope.c_str());
  if (!f.intercept.empty()) d.putAndInsertString(DCM_RescaleIntercept, f.intercept.c_str());
  if (!f.pixel_spacing.empty()) d.putAndInsertString(DCM_PixelSpacing, f.pixel_spacing.c_str());
  if (!f.imager_spacing.empty()) d.putAndInsertString(DCM_ImagerPixelSpacing, f.imager_spacing.c_str());
  if (f.bits_allocated == 8) {
    std::vector<Uint8> bytes(px.begin(), px.end());
    d.putAndInsertUint8Array(DCM_PixelData, bytes.data(), static_cast<unsigned long>(bytes.size()));
  } else {
    d.putAndInsertUint16Array(DCM_PixelData, px.data(), static_cast<unsigned long>(px.size()));
  }
  EXPECT_TRUE(ff.saveFile(file.c_str(), EXS_LittleEndianExplicit).good());
  return file;
}

}  // namespace

// Catches: a camera or I0 that does not survive the private block (a dropped translation, transposed rotation,
// float instead of double), spacing written as [column, row], pixels stored in another order.
TEST(Radiograph, WrittenFileReadsBackExactly) {
  const auto dir = xraylift::testing::scratch_dir("radiograph_roundtrip");
  const core::Camera cam = test_camera(5, 4);
  std::vector<std::uint16_t> stored(20);
  for (int n = 0; n < 20; ++n) stored[n] = static_cast<std::uint16_t>(1000 * n + 7);
  data::RadiographWriteOptions o;
  o.i0 = 60000;
  o.sdd_mm = 600;
  o.instance = 2;
  data::write_radiograph_dicom(dir / "v.dcm", stored, cam, o);
  EXPECT_TRUE(data::looks_like_dicom(dir / "v.dcm"));

  const data::Radiograph r = data::read_radiograph_dicom(dir / "v.dcm");
  EXPECT_EQ(r.width, 5);
  EXPECT_EQ(r.height, 4);
  EXPECT_EQ(r.photometric, "MONOCHROME1");
  EXPECT_EQ(r.intensity_sign, 1);
  EXPECT_FALSE(r.inverted);  // the sign attribute wins over MONOCHROME1
  for (int n = 0; n < 20; ++n) EXPECT_EQ(r.values[n], stored[n]) << n;
  ASSERT_TRUE(r.i0);
  EXPECT_EQ(*r.i0, 60000);
  ASSERT_TRUE(r.camera);
  EXPECT_EQ(r.camera->name(), cam.name());
  EXPECT_EQ(r.camera->world_to_camera(), cam.world_to_camera());  // bit-exact: FD values
  EXPECT_EQ(r.camera->K(), cam.K());
  ASSERT_TRUE(r.row_spacing_mm && r.column_spacing_mm);
  EXPECT_NEAR(*r.column_spacing_mm, 600 / cam.intrinsics().fx, 1e-9);
  EXPECT_EQ(r.spacing_tag, "ImagerPixelSpacing (0018,1164)");
  ASSERT_TRUE(r.source_detector_mm);
  EXPECT_EQ(*r.source_detector_mm, 600);
  EXPECT_NEAR(*r.source_patient_mm, 300, 1e-6);  // the ring's SAD: the world origin's depth
}

// Catches: MONOCHROME1 files taken as they are (the brief's rule inverts them when no sign says otherwise), a sign
// of -1 ignored, the rescale applied before the inversion or not at all.
TEST(Radiograph, InversionAndRescaleFollowTheDocumentedRule) {
  const auto dir = xraylift::testing::scratch_dir("radiograph_rules");
  const std::vector<Uint16> px = {0, 1, 100, 4095, 2000, 3};
  Fake mono1;
  mono1.photometric = "MONOCHROME1";
  mono1.slope = "2";
  mono1.intercept = "10";
  const auto a = data::read_radiograph_dicom(write_fake(dir / "mono1.dcm", mono1, px));
  EXPECT_TRUE(a.inverted);
  for (int n = 0; n < 6; ++n) EXPECT_EQ(a.values[n], 2.0 * (4095 - px[n]) + 10) << n;
  EXPECT_EQ(a.spacing_tag, "PixelSpacing (0028,0030)");
  EXPECT_DOUBLE_EQ(*a.row_spacing_mm, 0.2);
  EXPECT_DOUBLE_EQ(*a.column_spacing_mm, 0.3);
  EXPECT_FALSE(a.camera);

  Fake negative;
  negative.sign = "-1";
  negative.imager_spacing = "0.5\\0.5";
  const auto b = data::read_radiograph_dicom(write_fake(dir / "neg.dcm", negative, px));
  EXPECT_TRUE(b.inverted);
  EXPECT_EQ(b.values[0], 4095);
  EXPECT_EQ(b.spacing_tag, "ImagerPixelSpacing (0018,1164)");  // preferred over PixelSpacing

  Fake plain;
  const auto c = data::read_radiograph_dicom(write_fake(dir / "plain.dcm", plain, px));
  EXPECT_FALSE(c.inverted);
  EXPECT_EQ(c.values[3], 4095);
}

// Catches: 8-bit data or log-transformed values imported as intensities (silently wrong line integrals), and
// messages that do not name the file and the attribute.
TEST(Radiograph, RefusesWhatIsNotA16BitIntensityImage) {
  const auto dir = xraylift::testing::scratch_dir("radiograph_refusals");
  const std::vector<Uint16> px = {0, 1, 2, 3, 4, 5};
  Fake eight;
  eight.bits_allocated = 8, eight.bits_stored = 8;
  const auto f8 = write_fake(dir / "eight.dcm", eight, px);
  expect_input_error([&] { data::read_radiograph_dicom(f8); },
                     {"eight.dcm", "BitsAllocated (0028,0100) = 8", "expected 16"});
  Fake log;
  log.relationship = "LOG";
  const auto flog = write_fake(dir / "log.dcm", log, px);
  expect_input_error([&] { data::read_radiograph_dicom(flog); },
                     {"log.dcm", "PixelIntensityRelationship (0028,1040) = LOG"});
  std::ofstream(dir / "text.dcm") << "not dicom";
  expect_input_error([&] { data::read_radiograph_dicom(dir / "text.dcm"); }, {"text.dcm", "not readable as DICOM"});
  EXPECT_FALSE(data::looks_like_dicom(dir / "text.dcm"));
  EXPECT_THROW(data::write_radiograph_dicom(dir / "w.dcm", {1, 2, 3}, test_camera(5, 4)), core::InputError);
}
