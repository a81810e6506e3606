#include <gtest/gtest.h>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/data/manifest.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

TEST(Manifest, SplitIsByPatientSeededAndEightyTwenty) {
  data::Manifest m;
  for (int p = 0; p < 50; ++p)
    for (int s = 0; s < 2; ++s) {
      data::ManifestEntry e;
      e.id = core::cat("P", p, "-S", s);
      e.patient = core::cat("P", p);
      e.path = "cases/" + e.id;
      m.cases.push_back(e);
    }
  data::assign_splits(m, 7, 0.8);
  int train = 0;
  for (std::size_t i = 0; i < m.cases.size(); i += 2) {
    EXPECT_EQ(m.cases[i].split, m.cases[i + 1].split);  // one patient, one split
    train += m.cases[i].split == "train";
  }
  EXPECT_EQ(train, 40);
  auto again = m;
  data::assign_splits(again, 7, 0.8);
  for (std::size_t i = 0; i < m.cases.size(); ++i) EXPECT_EQ(again.cases[i].split, m.cases[i].split);
  data::assign_splits(again, 8, 0.8);
  int differ = 0;
  for (std::size_t i = 0; i < m.cases.size(); ++i) differ += again.cases[i].split != m.cases[i].split;
  EXPECT_GT(differ, 0);
}

TEST(Manifest, WriteReadRoundTripAndErrors) {
  const fs::path dir = xraylift::testing::scratch_dir("manifest_rt");
  data::Manifest m;
  data::ManifestEntry e;
  e.id = "phantom-1";
  e.patient = "phantom-1";
  e.path = "cases/phantom-1";
  e.source = "phantom";
  e.split = "val";
  e.nodules = 3;
  e.dims = {10, 11, 12};
  e.spacing_mm = {0.7, 0.7, 2.5};
  m.cases.push_back(e);
  m.skipped.push_back({"/x/y", "truncated"});
  data::write_manifest(dir / "manifest.json", m);
  const auto r = data::read_manifest(dir / "manifest.json");
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.cases[0].split, "val");
  EXPECT_EQ(r.cases[0].dims, e.dims);
  EXPECT_EQ(r.skipped.size(), 1u);
  ASSERT_NE(r.find("phantom-1"), nullptr);
  core::write_file_atomic(dir / "bad.json",
                          R"({"format": "xraylift.manifest", "cases": [{"id": "a", "path": "p", "split": "dev"}]})");
  try {
    data::read_manifest(dir / "bad.json");
    FAIL();
  } catch (const core::InputError& err) {
    EXPECT_NE(std::string(err.what()).find("cases[0].split"), std::string::npos) << err.what();
  }
  core::write_file_atomic(dir / "other.json", R"({"format": "other"})");
  EXPECT_THROW(data::read_manifest(dir / "other.json"), core::InputError);
}

// Catches a manifest field read with nlohmann's own conversion: the error was "wrong field type
// ([json.exception.type_error.302] ...)" without the field (issue 23). Each now names file, entry and field.
TEST(Manifest, WrongFieldTypesNameTheField) {
  const fs::path dir = xraylift::testing::scratch_dir("manifest_types");
  const std::string head = R"({"format": "xraylift.manifest", )";
  const std::pair<const char*, const char*> cases[] = {
      {R"("cases": [{"id": "a", "path": "p", "nodules": "three"}]})", "cases[0].nodules = \"three\""},
      {R"("cases": [{"id": 7, "path": "p"}]})", "cases[0].id = 7, expected text"},
      {R"("cases": [{"id": "a", "path": "p", "dims": [1, 2]}]})", "cases[0].dims = [1,2], expected three"},
      {R"("cases": [{"id": "a", "path": "p", "spacing_mm": "x"}]})", "cases[0].spacing_mm = \"x\""},
      {R"("train_fraction": "most", "cases": []})", "manifest.json.train_fraction = \"most\""},
      {R"("cases": [], "skipped": [{"path": 1}]})", "skipped[0].path = 1"}};
  for (const auto& [body, fragment] : cases) {
    core::write_file_atomic(dir / "manifest.json", head + body);
    try {
      data::read_manifest(dir / "manifest.json");
      ADD_FAILURE() << body << " was accepted";
    } catch (const core::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("json.exception"), std::string::npos) << e.what();
    }
  }
}
