// Radiographs -> view sets (drr/import_views.hpp): the intensity rule, the DICOM round trip, bad images.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <functional>

#include "drr_test_util.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/data/radiograph.hpp"
#include "xraylift/drr/import_views.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::drr;
namespace fs = std::filesystem;

namespace {

template <typename E>
void expect_error(const std::function<void()>& call, const std::vector<std::string>& fragments) {
  try {
    call();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    if (std::is_same_v<E, core::InputError>)
      EXPECT_EQ(dynamic_cast<const core::ConfigError*>(&e), nullptr) << "ConfigError (exit 2), expected exit 3";
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

void write_png16(const fs::path& file, int w, int h, std::uint16_t value) {
  cv::Mat m(h, w, CV_16UC1, cv::Scalar(value));
  ASSERT_TRUE(cv::imwrite(file.string(), m));
}

}  // namespace

// Catches: a sign error or a missing log in the rule, no clipping at 0 (intensities above I0) or at the maximum,
// I = 0 giving infinity.
TEST(ImportViews, LineIntegralsFollowTheRule) {
  IntensityRule rule;
  rule.max_line_integral = 9;
  const double i0 = 1000;
  const auto L = line_integrals({1000 * std::exp(-2.0), 1000, 2000, 0, 1000 * std::exp(-6.5)}, i0, rule);
  EXPECT_NEAR(L[0], 2.0, 1e-6);
  EXPECT_EQ(L[1], 0.0f);
  EXPECT_EQ(L[2], 0.0f);                      // brighter than air: clipped at 0
  EXPECT_NEAR(L[3], std::log(2000.0), 1e-5);  // I = 0 counts as half a count: -ln(0.5 / 1000), finite
  EXPECT_NEAR(L[4], 6.5, 1e-5);
  rule.max_line_integral = 5;
  EXPECT_EQ(line_integrals({0}, i0, rule)[0], 5.0f);
}

// Catches: I0 taken from the wrong source (order: flat field, DICOM I0, air percentile) or a percentile off by
// one rank.
TEST(ImportViews, I0ComesFromFlatFieldThenDicomThenTheAirPercentile) {
  RadiographImage img;
  img.file = "x";
  for (int v = 1; v <= 1000; ++v) img.intensity.push_back(v);
  IntensityRule rule;
  auto [air, air_source] = intensity_i0(img, rule);
  EXPECT_EQ(air, 995);  // rank floor(0.995 * 999) = 994 of 1..1000
  EXPECT_EQ(air_source, "air p99.5");
  img.file_i0 = 4000;
  EXPECT_EQ(intensity_i0(img, rule).first, 4000);
  EXPECT_EQ(intensity_i0(img, rule).second, "dicom");
  rule.flat_field = 123;
  EXPECT_EQ(intensity_i0(img, rule).first, 123);
  EXPECT_EQ(intensity_i0(img, rule).second, "flat-field");
}

// The round trip: DRRs written as DICOM (render --dicom) and imported back without a rig give the same line
// integrals (within the stated quantization error) and the same cameras.
// Catches: cameras lost or altered in the private block, I = I0 exp(-L) quantized or inverted wrongly, views
// imported out of order, the view set not written whole.
TEST(ImportViews, DicomRoundTripGivesTheSameLineIntegralsAndCameras) {
  const core::VolumeF vol = fixture::uniform_volume({40, 40, 40}, {2, 2, 2}, 0.05f);
  const core::Rig rig = fixture::small_ring(64, 300, 600, 4);
  const DrrImages img = render_attenuation(vol, rig, RenderOptions{});
  const auto dir = xraylift::testing::scratch_dir("import_roundtrip");
  ViewOutputOptions out;
  out.dicom = true;
  out.overlay = false;
  out.dicom_sdd_mm = std::vector<double>(rig.size(), 600.0);
  write_views(dir / "rendered", "rt", rig, img, {}, RenderOptions{}, out);

  const auto files = radiograph_files({dir / "rendered"});
  ASSERT_EQ(files.size(), 8u);  // a folder gives every image: viewNN.png (16-bit too) and viewNN.dcm
  std::vector<fs::path> dcm;
  for (const auto& f : files)
    if (f.extension() == ".dcm") dcm.push_back(f);
  ASSERT_EQ(dcm.size(), 4u);
  ImportOptions o;
  const ImportResult r = import_views(dcm, dir / "imported", o);
  const core::ViewSet set = core::read_view_set(dir / "imported" / "infos.json");
  EXPECT_EQ(set.case_id, "imported");
  ASSERT_EQ(set.views.size(), 4u);
  double worst = 0, peak = 0;
  for (int v = 0; v < 4; ++v) {
    EXPECT_EQ(set.views[v].camera.world_to_camera(), rig[v].world_to_camera()) << v;
    EXPECT_EQ(set.views[v].camera.K(), rig[v].K()) << v;
    EXPECT_EQ(set.views[v].camera.name(), rig[v].name());
    EXPECT_EQ(r.i0[v], 65535);
    EXPECT_EQ(r.i0_source[v], "dicom");
    const core::NpyArray L = core::read_line_integrals(dir / "imported" / set.views[v].line_integral_path, 64, 64);
    for (int n = 0; n < 64 * 64; ++n) {
      const double truth = img.view(v)[n];
      const double q = transmission_value(img.view(v)[n], 65535);
      ASSERT_GE(q, 1);                                     // this volume stays well inside 16 bits (L < 11)
      const double bound = -std::log(1 - 0.5 / q) + 1e-6;  // the stated quantization error (+ float rounding)
      ASSERT_LE(std::abs(L.data[n] - truth), bound) << "view " << v << " pixel " << n << " L " << truth;
      worst = std::max(worst, std::abs(L.data[n] - truth));
      peak = std::max(peak, truth);
    }
  }
  EXPECT_GT(peak, 3.0);  // the test saw real attenuation, not only air
  EXPECT_GT(worst, 0.0);
  EXPECT_EQ(set.render["import"]["views"][0]["i0_source"], "dicom");
}

// Catches: 8-bit images accepted (exit 3 naming the file), sizes mixed within a set, a PNG without cameras, a rig of
// another view count or image size (exit 2), a DICOM without spacing imported without a rig, and a failed import
// leaving a folder behind.
TEST(ImportViews, BadImagesAndRigsAreRefusedWithTheirExitClass) {
  const auto dir = xraylift::testing::scratch_dir("import_refusals");
  write_png16(dir / "a.png", 8, 6, 1000);
  write_png16(dir / "b.png", 8, 6, 500);
  write_png16(dir / "wide.png", 9, 6, 500);
  cv::imwrite((dir / "eight.png").string(), cv::Mat(6, 8, CV_8UC1, cv::Scalar(10)));
  const fs::path out = dir / "out";
  core::RingSpec s;
  s.views = 2;
  s.detector.width = 8, s.detector.height = 6, s.detector.pixel_size_mm = 40;
  ImportOptions with_rig;
  with_rig.rig = core::Rig::ring(s);
  with_rig.rig_origin = "rig.yaml";

  expect_error<core::InputError>(
      [&] {
        import_views({dir / "a.png", dir / "eight.png"}, out, with_rig);
      },
      {"eight.png", "8-bit unsigned pixels, expected 16-bit"});
  expect_error<core::InputError>(
      [&] {
        import_views({dir / "a.png", dir / "wide.png"}, out, with_rig);
      },
      {"wide.png: 9 x 6 px", "a.png' is 8 x 6"});
  expect_error<core::InputError>(
      [&] {
        import_views({dir / "a.png", dir / "b.png"}, out, ImportOptions{});
      },
      {"a.png: a PNG/TIFF has no geometry"});
  expect_error<core::ConfigError>([&] { import_views({dir / "a.png"}, out, with_rig); },
                                  {"rig.yaml' has 2 views, but 1 radiographs"});
  s.detector.width = 16;
  ImportOptions wrong_size = with_rig;
  wrong_size.rig = core::Rig::ring(s);
  expect_error<core::ConfigError>(
      [&] {
        import_views({dir / "a.png", dir / "b.png"}, out, wrong_size);
      },
      {"is 16 x 6 px, but", "a.png' is 8 x 6"});
  // A DICOM with its camera but without spacing (no source-detector distance given to the writer).
  const core::Camera cam = core::Rig::ring(s)[0];
  data::write_radiograph_dicom(dir / "nospacing.dcm", std::vector<std::uint16_t>(16 * 6, 100), cam);
  expect_error<core::InputError>([&] { import_views({dir / "nospacing.dcm"}, out, ImportOptions{}); },
                                 {"nospacing.dcm: no pixel spacing", "give --config RIG.yaml"});
  EXPECT_FALSE(fs::exists(out));

  // PNGs with a rig import; the flat field sets I0.
  ImportOptions good = with_rig;
  good.rule.flat_field = 2000;
  const auto r = import_views({dir / "a.png", dir / "b.png"}, out, good);
  const auto L = core::read_line_integrals(out / r.views.views[1].line_integral_path, 6, 8);
  EXPECT_NEAR(L.data[0], std::log(2000.0 / 500.0), 1e-6);
  EXPECT_EQ(r.i0_source[0], "flat-field");
}
