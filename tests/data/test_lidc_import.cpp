#include <gtest/gtest.h>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/interrupt.hpp"
#include "xraylift/data/lidc_import.hpp"
#include "xraylift/data/synthetic_lidc.hpp"
#include "xraylift/testing/phantoms.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {
data::Phantom small_phantom(std::uint64_t seed, const std::string& id) {
  auto spec = xraylift::testing::phantom_spec(seed, {128, 128, 48}, {2.6, 2.2, 6.5}, 3, 8, 20);
  spec.id = id;
  return data::generate_phantom(spec);
}
}  // namespace

// A LIDC-like download: two good patients, one with malformed XML (its CT is imported without annotations), one
// broken series, one radiograph XML.
TEST(LidcImport, ImportsGoodCasesAndListsBadOnesAsSkipped) {
  const fs::path root = xraylift::testing::scratch_dir("lidc_import_root");
  const fs::path out = xraylift::testing::scratch_dir("lidc_import_out");
  const auto p1 = small_phantom(1, "SIM-0001");
  const auto p2 = small_phantom(2, "SIM-0002");
  const auto p3 = small_phantom(3, "SIM-0003");
  data::write_phantom_as_lidc(root / "SIM-0001" / "study" / "series", p1);
  data::write_phantom_as_lidc(root / "SIM-0002" / "study" / "series", p2);
  const auto w3 = data::write_phantom_as_lidc(root / "SIM-0003" / "study" / "series", p3);
  core::write_file_atomic(w3.xml_file, core::read_file(w3.xml_file).substr(0, 2000));  // truncated XML
  fs::create_directories(root / "SIM-0004" / "broken");
  core::write_file_atomic(root / "SIM-0004" / "broken" / "1-001.dcm", "not a dicom file");
  core::write_file_atomic(root / "SIM-0001" / "cxr.xml",
                          "<?xml version=\"1.0\"?><IdriReadMessage xmlns=\"http://www.nih.gov\"/>");

  data::LidcImportOptions o;
  o.progress = false;
  const auto sum = data::import_lidc(root, out, o);
  EXPECT_EQ(sum.series_folders, 4);
  ASSERT_EQ(sum.manifest.cases.size(), 3u);
  ASSERT_EQ(sum.manifest.skipped.size(), 1u);
  std::string skipped;
  for (const auto& s : sum.manifest.skipped) skipped += s.path + ": " + s.reason + "\n";
  EXPECT_NE(skipped.find("SIM-0004"), std::string::npos) << skipped;
  // The malformed XML costs its annotations only, with a message naming the file and line.
  ASSERT_EQ(sum.annotation_errors.size(), 1u);
  EXPECT_NE(sum.annotation_errors[0].find("annotations.xml:"), std::string::npos) << sum.annotation_errors[0];
  EXPECT_NE(sum.annotation_errors[0].find("malformed XML"), std::string::npos) << sum.annotation_errors[0];
  bool cxr_notice = false;
  for (const auto& n : sum.notices) cxr_notice = cxr_notice || n.find("IdriReadMessage") != std::string::npos;
  EXPECT_TRUE(cxr_notice);

  // The cases are complete and readable; the truth matches the phantoms'.
  const auto m = data::read_manifest(out / "manifest.json");
  ASSERT_EQ(m.cases.size(), 3u);
  const auto c3 = data::load_manifest_case(out / "manifest.json", *m.find("SIM-0003"));
  EXPECT_EQ(c3.hu.values(), p3.ct.hu.values());
  EXPECT_TRUE(c3.nodules.empty());
  EXPECT_EQ(c3.meta["annotation_errors"].size(), 1u);
  const auto c1 = data::load_manifest_case(out / "manifest.json", *m.find("SIM-0001"));
  EXPECT_EQ(c1.hu.values(), p1.ct.hu.values());
  EXPECT_EQ(c1.meta["source"], "lidc");
  int counted = 0;
  for (const auto& b : c1.nodules) {
    if (b.ignore) continue;
    ++counted;
    EXPECT_EQ(b.readers, 4);
    bool matched = false;
    // Voxel-cell boxes differ by whole voxels or not at all: half a voxel is "the same cells".
    for (const auto& t : p1.ct.nodules)
      matched = matched || ((b.box.min() - t.box.min()).cwiseAbs().cwiseQuotient(c1.hu.spacing()).maxCoeff() < 0.5 &&
                            (b.box.max() - t.box.max()).cwiseAbs().cwiseQuotient(c1.hu.spacing()).maxCoeff() < 0.5);
    EXPECT_TRUE(matched) << b.box.center.transpose();
  }
  EXPECT_EQ(counted, int(p1.ct.nodules.size()));
  // Nothing half-written: only the three case folders under cases/ and no temporary files anywhere.
  int entries = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
    entries += e.path().parent_path() == out / "cases";
  }
  EXPECT_EQ(entries, 3);
}

TEST(LidcImport, AnInterruptedImportStillWritesTheManifestOfWhatItFinished) {
  const fs::path root = xraylift::testing::scratch_dir("lidc_import_interrupted_root");
  const fs::path out = xraylift::testing::scratch_dir("lidc_import_interrupted_out");
  data::write_phantom_as_lidc(root / "SIM-0001" / "study" / "series", small_phantom(1, "SIM-0001"));
  data::LidcImportOptions o;
  o.progress = false;
  core::request_interrupt();  // as a Ctrl-C before the first series
  try {
    data::import_lidc(root, out, o);
    FAIL() << "expected Interrupted";
  } catch (const core::Interrupted& e) {
    EXPECT_NE(std::string(e.what()).find("stopped after 0 case(s)"), std::string::npos) << e.what();
  }
  core::clear_interrupt();
  ASSERT_TRUE(fs::exists(out / "manifest.json"));
  EXPECT_TRUE(data::read_manifest(out / "manifest.json").cases.empty());
}

TEST(LidcImport, EmptyOrMissingRootIsAnError) {
  const fs::path root = xraylift::testing::scratch_dir("lidc_import_empty");
  EXPECT_THROW(data::import_lidc(root, root / "out"), core::InputError);
  EXPECT_THROW(data::import_lidc(root / "missing", root / "out"), core::InputError);
}

TEST(LidcImport, TheRealSampleImportsWithoutAnnotations) {
  XL_REQUIRE_LIDC_SAMPLE(dir);
  const fs::path out = xraylift::testing::scratch_dir("lidc_import_sample");
  const auto sum = data::import_lidc(dir, out);
  ASSERT_EQ(sum.manifest.cases.size(), 1u);
  const auto c = data::load_case(out / sum.manifest.cases[0].path);
  EXPECT_EQ(c.hu.dims(), Eigen::Vector3i(512, 512, 133));
  EXPECT_NEAR(c.hu.geometry().center_world().norm(), 0.0, 1e-9);
  EXPECT_NEAR(c.meta["dicom_offset_mm"][2].get<double>(), -175.0, 1e-3);
  EXPECT_EQ(c.meta["slices"].size(), 133u);
}
