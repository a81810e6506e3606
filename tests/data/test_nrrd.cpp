#include <gtest/gtest.h>

#include "xraylift/core/atomic_file.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {
core::VolumeI16 ramp() {
  core::VolumeI16 v(core::VolumeGeometry::centered({5, 4, 3}, {0.7, 0.8, 2.5}));
  for (std::size_t n = 0; n < v.values().size(); ++n) v.values()[n] = static_cast<std::int16_t>(int(n) * 37 - 1000);
  return v;
}
}  // namespace

TEST(Nrrd, RoundTripGzipAndRaw) {
  const fs::path dir = xraylift::testing::scratch_dir("nrrd_round_trip");
  const auto v = ramp();
  for (bool gz : {true, false}) {
    const fs::path f = dir / (gz ? "a.nrrd" : "b.nrrd");
    data::write_nrrd(f, v, gz);
    const auto r = data::read_nrrd(f);
    EXPECT_EQ(r.dims(), v.dims());
    EXPECT_TRUE(r.spacing().isApprox(v.spacing()));
    EXPECT_TRUE(r.geometry().origin.isApprox(v.geometry().origin));
    EXPECT_TRUE(r.geometry().axis_aligned());
    EXPECT_EQ(r.values(), v.values());
  }
  const std::string text = core::read_file(dir / "b.nrrd");
  EXPECT_NE(text.find("space: left-posterior-superior"), std::string::npos);
  EXPECT_NE(text.find("space directions: (0.69999"), std::string::npos) << text.substr(0, 400);
  EXPECT_NE(text.find("(0,0,2.5)"), std::string::npos) << text.substr(0, 400);
}

TEST(Nrrd, LabelsRoundTrip) {
  const fs::path dir = xraylift::testing::scratch_dir("nrrd_labels");
  core::VolumeU8 v(core::VolumeGeometry::centered({3, 3, 3}, {1, 1, 1}));
  v.at(1, 2, 0) = 8;
  data::write_nrrd(dir / "l.nrrd", v);
  EXPECT_EQ(data::read_nrrd_u8(dir / "l.nrrd").values(), v.values());
}

TEST(Nrrd, ReadsRasSpaceAndConvertsToLps) {
  const fs::path dir = xraylift::testing::scratch_dir("nrrd_ras");
  std::string text =
      "NRRD0004\ntype: short\ndimension: 3\nspace: right-anterior-superior\nsizes: 2 1 1\n"
      "space directions: (-1,0,0) (0,-1,0) (0,0,2)\nendian: little\nencoding: raw\nspace origin: (10,20,30)\n\n";
  const std::int16_t vals[2] = {-5, 7};
  text.append(reinterpret_cast<const char*>(vals), 4);
  core::write_file_atomic(dir / "ras.nrrd", text);
  const auto v = data::read_nrrd(dir / "ras.nrrd");
  EXPECT_TRUE(v.geometry().origin.isApprox(Eigen::Vector3d(-10, -20, 30)));
  EXPECT_TRUE(v.geometry().axis_aligned());
  EXPECT_EQ(v.at(1, 0, 0), 7);
}

TEST(Nrrd, BadFilesNameTheProblem) {
  const fs::path dir = xraylift::testing::scratch_dir("nrrd_bad");
  core::write_file_atomic(dir / "not.nrrd", "hello\n");
  try {
    data::read_nrrd(dir / "not.nrrd");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a NRRD"), std::string::npos) << e.what();
  }
  data::write_nrrd(dir / "t.nrrd", ramp(), true);
  std::string bytes = core::read_file(dir / "t.nrrd");
  core::write_file_atomic(dir / "t.nrrd", bytes.substr(0, bytes.size() - 20));
  EXPECT_THROW(data::read_nrrd(dir / "t.nrrd"), core::InputError);
  data::write_nrrd(dir / "r.nrrd", ramp(), false);
  bytes = core::read_file(dir / "r.nrrd");
  core::write_file_atomic(dir / "r.nrrd", bytes.substr(0, bytes.size() - 20));
  try {
    data::read_nrrd(dir / "r.nrrd");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  EXPECT_THROW(data::read_nrrd(dir / "missing.nrrd"), core::InputError);
}

namespace {
std::string nrrd_error(const fs::path& file) {
  try {
    data::read_nrrd(file);
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "<accepted>";
}

// A header like Slicer's with the given sizes and encoding, followed by `payload` bytes.
std::string nrrd_with_sizes(const std::string& sizes, const std::string& encoding, const std::string& payload) {
  return "NRRD0004\ntype: short\ndimension: 3\nsizes: " + sizes + "\nencoding: " + encoding + "\n\n" + payload;
}
}  // namespace

// Catches a reader that allocates what the header declares before checking it: 'sizes: 99999999 99999999
// 99999999' ended in std::bad_alloc (exit 1), and a 4th size entry beyond 'dimension: 3' was ignored (issue 23).
TEST(Nrrd, DeclaredSizesAreCheckedBeforeAllocating) {
  const fs::path dir = xraylift::testing::scratch_dir("nrrd_sizes");
  core::write_file_atomic(dir / "huge.nrrd", nrrd_with_sizes("99999999 99999999 99999999", "raw", "xx"));
  EXPECT_NE(nrrd_error(dir / "huge.nrrd")
                .find("huge.nrrd: field 'sizes' = '99999999 99999999 99999999', expected "
                      "positive sizes of at most 2147483648 voxels"),
            std::string::npos)
      << nrrd_error(dir / "huge.nrrd");
  core::write_file_atomic(dir / "four.nrrd", nrrd_with_sizes("2 2 2 2", "raw", std::string(32, '\0')));
  EXPECT_NE(nrrd_error(dir / "four.nrrd").find("has 4 entries, expected 3 (as many as 'dimension')"), std::string::npos)
      << nrrd_error(dir / "four.nrrd");
  core::write_file_atomic(dir / "overflow.nrrd", nrrd_with_sizes("2 2 99999999999999999999", "raw", "xx"));
  EXPECT_NE(nrrd_error(dir / "overflow.nrrd").find("expected three positive integers"), std::string::npos)
      << nrrd_error(dir / "overflow.nrrd");
  // Within the limit but more than the file's bytes can hold: refused by the byte count, not the allocator.
  core::write_file_atomic(dir / "short.nrrd", nrrd_with_sizes("1000 1000 1000", "raw", std::string(64, '\0')));
  EXPECT_NE(nrrd_error(dir / "short.nrrd").find("truncated: 64 data bytes, expected 2000000000"), std::string::npos)
      << nrrd_error(dir / "short.nrrd");
  core::write_file_atomic(dir / "short_gz.nrrd", nrrd_with_sizes("1000 1000 1000", "gzip", std::string(64, '\0')));
  EXPECT_NE(nrrd_error(dir / "short_gz.nrrd").find("more than 64 gzip bytes can hold"), std::string::npos)
      << nrrd_error(dir / "short_gz.nrrd");
}
