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
