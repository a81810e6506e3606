// Case-level rendering: the real LIDC sample (Siddon vs trilinear), input kinds, manifests, a phantom end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "drr_test_util.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/data/manifest.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/drr/render.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {
core::Rig ring_of(int pixels) {
  core::RingSpec s;
  s.detector.width = s.detector.height = pixels;
  s.detector.pixel_size_mm = 0.78125 * 1024.0 / pixels;
  return core::Rig::ring(s);
}
}  // namespace

TEST(RenderRealSample, SiddonAndTrilinearAgree) {
  XL_REQUIRE_LIDC_SAMPLE(dir);
  const data::DicomSeries series = data::read_dicom_series(dir);
  const core::Rig rig = ring_of(96);
  RenderOptions sid;
  RenderOptions tri;
  tri.integrator = Integrator::kTrilinear;
  tri.step_voxels = 0.5;
  const DrrImages a = render(series.hu, rig, sid);
  const DrrImages b = render(series.hu, rig, tri);
  double sum_a = 0, sum_diff = 0, worst = 0;
  int counted = 0;
  std::vector<double> rel;
  for (std::size_t n = 0; n < a.line_integral.size(); ++n) {
    const double x = a.line_integral[n], y = b.line_integral[n];
    if (x < 0.5) continue;  // rays through the body
    ++counted;
    sum_a += x;
    sum_diff += std::abs(x - y);
    worst = std::max(worst, std::abs(x - y) / x);
    rel.push_back(std::abs(x - y) / x);
  }
  std::sort(rel.begin(), rel.end());
  const double p99 = rel.empty() ? 0 : rel[rel.size() * 99 / 100];
  ASSERT_GT(counted, 20000);
  // Stated tolerance on the real sample (anisotropic 0.70 x 0.70 x 2.5 mm voxels, sharp bone edges):
  // mean absolute difference <= 0.5% of the mean, 99% of body rays within 3% (the rest run parallel to the 2.5 mm
  // slices between two different ones, where nearest-voxel and linear interpolation legitimately differ).
  EXPECT_LE(sum_diff / sum_a, 0.005);
  EXPECT_LE(p99, 0.03);
  RecordProperty("mean_relative_difference", std::to_string(sum_diff / sum_a));
  RecordProperty("worst_relative_difference", std::to_string(worst));
  std::printf("[real sample] Siddon vs trilinear (step 0.5 voxel): mean |diff| %.3f%%, p99 %.3f%%, worst %.2f%%, %d rays\n",
              100 * sum_diff / sum_a, 100 * p99, 100 * worst, counted);
}

TEST(RenderCase, PhantomCaseFolderEndToEnd) {
  data::PhantomSpec spec;
  spec.seed = 3;
  spec.dims = {96, 96, 64};
  spec.spacing_mm = {3.5, 3.5, 5.0};
  spec.nodules = 3;
  spec.nodule_min_diameter_mm = 10;
  spec.nodule_max_diameter_mm = 20;
  spec.vessels = false;
  const data::Phantom phantom = data::generate_phantom(spec);
  const auto root = xraylift::testing::scratch_dir("drr_render_case");
  data::save_case(root / "case", phantom.ct);
  const data::Case c = load_render_input(root / "case");
  EXPECT_EQ(c.id, phantom.ct.id);
  ASSERT_EQ(c.nodules.size(), phantom.ct.nodules.size());
  RenderOptions options;
  options.mask = true;
  const RenderCaseResult r = render_case(c, ring_of(64), options, {}, root / "out");
  EXPECT_EQ(r.rays, 10LL * 64 * 64);
  const core::ViewSet set = core::read_view_set(root / "out" / "infos.json");
  ASSERT_EQ(set.views.size(), 10u);
  EXPECT_EQ(set.boxes_3d.size(), c.nodules.size());
  std::size_t boxes_2d = 0;
  for (const auto& v : set.views) {
    boxes_2d += v.boxes.size();
    EXPECT_TRUE(std::filesystem::exists(root / "out" / v.image_path));
    EXPECT_TRUE(std::filesystem::exists(root / "out" / v.mask_path));
  }
  EXPECT_GE(boxes_2d, 10 * c.nodules.size() - 2);  // nodules sit in the lungs: seen by (almost) every view

  // The same volume as a .nrrd file renders identically (no nodules).
  data::write_nrrd(root / "volume_only.nrrd", c.hu);
  const data::Case nrrd = load_render_input(root / "volume_only.nrrd");
  EXPECT_EQ(nrrd.id, "volume_only");
  EXPECT_TRUE(nrrd.nodules.empty());
  EXPECT_EQ(render(nrrd.hu, ring_of(32), {}).line_integral, render(c.hu, ring_of(32), {}).line_integral);
}

TEST(RenderCase, InputsAndManifests) {
  const auto root = xraylift::testing::scratch_dir("drr_render_inputs");
  EXPECT_THROW(load_render_input(root / "missing"), core::InputError);
  core::write_file_atomic(root / "notes.txt", "hello");
  EXPECT_THROW(load_render_input(root / "notes.txt"), core::InputError);
  std::filesystem::create_directories(root / "empty");
  EXPECT_THROW(load_render_input(root / "empty"), core::InputError);

  core::write_file_atomic(root / "list.txt", "# cases\na\n  b  \n\n/abs/c\n");
  const auto lines = read_manifest(root / "list.txt");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], root / "a");
  EXPECT_EQ(lines[1], root / "b");
  EXPECT_EQ(lines[2], "/abs/c");
  data::Manifest m;
  data::ManifestEntry a, b;
  a.id = a.patient = "x";
  a.path = "cases/x";
  a.split = "train";
  b.id = b.patient = "y";
  b.path = "cases/y";
  b.split = "val";
  m.cases = {a, b};
  data::write_manifest(root / "manifest.json", m);
  const auto json = read_manifest(root / "manifest.json");
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0], root / "cases/x");
  EXPECT_EQ(json[1], root / "cases/y");
  core::write_file_atomic(root / "bad.json", R"({"cases": [{"id": "x"}]})");
  EXPECT_THROW(read_manifest(root / "bad.json"), core::InputError);
  core::write_file_atomic(root / "none.txt", "# nothing\n");
  EXPECT_THROW(read_manifest(root / "none.txt"), core::InputError);
}
