#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>

#include "drr_test_util.hpp"
#include "xraylift/core/config.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/drr/view_output.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {
core::BoxRecord truth_box(const std::string& id, const core::Box3D& box) {
  core::BoxRecord r;
  r.id = id;
  r.box = box;
  return r;
}
}  // namespace

TEST(ViewOutput, WritesImagesArraysOverlaysAndInfos) {
  const core::VolumeF vol = fixture::uniform_volume({40, 40, 40}, {2, 2, 2}, 0.02f);
  const core::Rig rig = fixture::small_ring(48, 300, 600, 3);
  core::BoxRecord n;
  n.id = "n1";
  n.box = core::Box3D{{10, -5, 8}, {12, 10, 14}};
  RenderOptions options;
  options.mask = true;
  const DrrImages img = render_attenuation(vol, rig, options, {n});
  const auto dir = xraylift::testing::scratch_dir("drr_view_output");
  ViewOutputOptions out;
  out.png_l_max = 4.0;
  out.transmission = true;
  write_views(dir, "case-1", rig, img, {n}, options, out);

  const core::ViewSet set = core::read_view_set(dir / "infos.json");
  EXPECT_EQ(set.case_id, "case-1");
  ASSERT_EQ(set.views.size(), 3u);
  ASSERT_EQ(set.boxes_3d.size(), 1u);
  EXPECT_EQ(set.render["png_window"]["png_l_max"], 4.0);
  for (int v = 0; v < 3; ++v) {
    const auto& rec = set.views[v];
    EXPECT_EQ(rec.boxes.size(), 1u);
    const core::NpyArray arr = core::read_npy(dir / rec.line_integral_path);
    EXPECT_EQ(arr.shape, (std::vector<std::int64_t>{48, 48}));
    for (int p = 0; p < 48 * 48; ++p) ASSERT_EQ(arr.data[p], img.view(v)[p]);
    const core::NpyArray t = core::read_npy(dir / ("view0" + std::to_string(v) + "_transmission.npy"));
    EXPECT_FLOAT_EQ(t.data[24 * 48 + 24], std::exp(-img.view(v)[24 * 48 + 24]));
    const cv::Mat png = cv::imread((dir / rec.image_path).string(), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(png.type(), CV_16UC1);
    const int centre = 24 * 48 + 24;
    // The documented window: L = png / 65535 * png_l_max.
    EXPECT_NEAR(png.at<std::uint16_t>(24, 24) / 65535.0 * 4.0, img.view(v)[centre], 4.0 / 65535);
    const cv::Mat mask = cv::imread((dir / rec.mask_path).string(), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(mask.type(), CV_16UC1);
    const auto c = rec.boxes[0].projection.center_uv;
    EXPECT_EQ(mask.at<std::uint16_t>(int(c.y()), int(c.x())), 1);
    const cv::Mat overlay = cv::imread((dir / ("view0" + std::to_string(v) + "_overlay.png")).string());
    EXPECT_EQ(overlay.channels(), 3);
  }
  EXPECT_EQ(png_value(-1.0f, 4.0), 0);
  EXPECT_EQ(png_value(100.0f, 4.0), 65535);
  ViewOutputOptions bad;
  bad.png_l_max = 0;
  EXPECT_THROW(write_views(dir, "c", rig, img, {n}, options, bad), core::InputError);
}

// Ignore regions reach the 2D truth: a sub-3 mm mark (ignore in the truth file) and a nodule failing the render's
// truth filter (one reader, filter 3) are flagged "ignore" in gt_boxes_2d and drawn orange (dashed) in overlays.
TEST(ViewOutput, IgnoreRegionsAndTheTruthFilterReachTheTwoDimensionalBoxes) {
  const core::VolumeF vol = fixture::uniform_volume({40, 40, 40}, {2, 2, 2}, 0.02f);
  const core::Rig rig = fixture::small_ring(64, 300, 600, 2);
  auto nodule = truth_box("n1", {{10, -5, 8}, {12, 10, 14}});
  nodule.readers = 4;
  auto point = truth_box("small", {{-15, 5, -10}, {10, 10, 10}});
  point.ignore = true;
  point.sized = false;
  auto one_reader = truth_box("n2", {{-12, 8, 20}, {9, 9, 9}});
  one_reader.readers = 1;
  const std::vector<core::BoxRecord> boxes{nodule, point, one_reader};
  RenderOptions options;
  const DrrImages img = render_attenuation(vol, rig, options, boxes);
  const auto dir = xraylift::testing::scratch_dir("drr_view_output_ignore");
  ViewOutputOptions out;
  out.truth.min_readers = 3;
  write_views(dir, "case-2", rig, img, boxes, options, out);
  const core::ViewSet set = core::read_view_set(dir / "infos.json");
  ASSERT_EQ(set.boxes_3d.size(), 3u);
  EXPECT_FALSE(set.boxes_3d[0].ignore);
  EXPECT_TRUE(set.boxes_3d[1].ignore);
  EXPECT_FALSE(set.boxes_3d[1].sized);
  EXPECT_TRUE(set.boxes_3d[2].ignore);  // 1 reader < 3
  EXPECT_EQ(set.render["truth_filter"]["min_readers"], 3);
  for (const auto& view : set.views) {
    ASSERT_EQ(view.boxes.size(), 3u);
    for (const auto& b : view.boxes) EXPECT_EQ(b.ignore, b.nodule_id != "n1") << b.nodule_id;
  }
  // The overlay draws the nodule red and the ignore regions orange.
  const cv::Mat overlay = cv::imread((dir / "view00_overlay.png").string());
  int red = 0, orange = 0;
  for (int r = 0; r < overlay.rows; ++r)
    for (int c = 0; c < overlay.cols; ++c) {
      const auto p = overlay.at<cv::Vec3b>(r, c);
      red += p[2] > 200 && p[1] < 60 && p[0] < 60;
      orange += p[2] > 200 && p[1] > 120 && p[1] < 200 && p[0] < 60;
    }
  EXPECT_GT(red, 10);
  EXPECT_GT(orange, 10);
  ViewOutputOptions bad;
  bad.truth.min_readers = 7;
  EXPECT_THROW(write_views(dir, "c", rig, img, boxes, options, bad), core::ConfigError);
}

// `truth.textures` in a render config: a ground-glass nodule becomes an ignore region in 3D and in every view, a
// solid one and one of unknown texture stay counted; a texture outside the three classes is refused.
TEST(ViewOutput, TheTextureFilterOfTheConfigMakesOtherTexturesIgnoreRegions) {
  const core::VolumeF vol = fixture::uniform_volume({40, 40, 40}, {2, 2, 2}, 0.02f);
  const core::Rig rig = fixture::small_ring(64, 300, 600, 2);
  auto solid = truth_box("solid", {{10, -5, 8}, {12, 10, 14}});
  solid.texture = "solid";
  auto glass = truth_box("glass", {{-12, 8, 20}, {9, 9, 9}});
  glass.texture = "ground-glass";
  const auto unknown = truth_box("unknown", {{-15, 5, -10}, {10, 10, 10}});
  const std::vector<core::BoxRecord> boxes{solid, glass, unknown};
  RenderOptions options;
  const DrrImages img = render_attenuation(vol, rig, options, boxes);
  const auto dir = xraylift::testing::scratch_dir("drr_view_output_texture");
  const auto out = ViewOutputOptions::from_config(core::Config::from_yaml("truth: {textures: [solid, part-solid]}"));
  write_views(dir, "case-t", rig, img, boxes, options, out);
  const core::ViewSet set = core::read_view_set(dir / "infos.json");
  ASSERT_EQ(set.boxes_3d.size(), 3u);
  EXPECT_FALSE(set.boxes_3d[0].ignore);
  EXPECT_EQ(set.boxes_3d[0].texture, "solid");
  EXPECT_TRUE(set.boxes_3d[1].ignore);
  EXPECT_FALSE(set.boxes_3d[2].ignore);
  EXPECT_EQ(set.render["truth_filter"]["textures"], nlohmann::json({"solid", "part-solid"}));
  for (const auto& view : set.views)
    for (const auto& b : view.boxes) EXPECT_EQ(b.ignore, b.nodule_id == "glass") << b.nodule_id;
  EXPECT_THROW(ViewOutputOptions::from_config(core::Config::from_yaml("truth: {textures: [glassy]}")),
               core::ConfigError);
}

// The PNG and .npy writers on an image with no symmetry (a non-square detector and a ramp that differs along
// rows and columns): a transposed, flipped or row-swapped file fails.
TEST(ViewOutput, AsymmetricImagesKeepTheirOrientation) {
  const int W = 40, H = 24;
  core::RingSpec ring;
  ring.views = 1;
  ring.detector.width = W;
  ring.detector.height = H;
  const core::Rig rig = core::Rig::ring(ring);
  DrrImages img;
  img.views = 1;
  img.height = H;
  img.width = W;
  img.line_integral.resize(std::size_t(W) * H);
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c)
      img.line_integral[std::size_t(r) * W + c] = 0.05f * c + 0.3f * r + (r == 3 && c == 31 ? 2.f : 0.f);
  const auto dir = xraylift::testing::scratch_dir("drr_view_output_asymmetric");
  ViewOutputOptions out;
  out.png_l_max = 20.0;
  write_views(dir, "asym", rig, img, {}, RenderOptions{}, out);
  const cv::Mat png = cv::imread((dir / "view00.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(png.type(), CV_16UC1);
  ASSERT_EQ(png.rows, H);  // rows = image height (y), columns = width (x)
  ASSERT_EQ(png.cols, W);
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c)
      ASSERT_EQ(png.at<std::uint16_t>(r, c), png_value(img.line_integral[std::size_t(r) * W + c], 20.0))
          << r << ", " << c;
  // The marked pixel is at row 3, column 31 of the file and nowhere else brighter than its neighbours.
  EXPECT_GT(png.at<std::uint16_t>(3, 31), png.at<std::uint16_t>(3, 30));
  EXPECT_GT(png.at<std::uint16_t>(3, 31), png.at<std::uint16_t>(4, 31));
  const core::NpyArray arr = core::read_npy(dir / "view00.npy");
  ASSERT_EQ(arr.shape, (std::vector<std::int64_t>{H, W}));  // numpy's [rows, columns]
  EXPECT_EQ(arr.data, img.line_integral);
  const cv::Mat overlay = cv::imread((dir / "view00_overlay.png").string());
  EXPECT_EQ(overlay.rows, H);
  EXPECT_EQ(overlay.cols, W);
  // Brightness grows to the right and downward in the display image too.
  const auto gray = [&](int r, int c) { return overlay.at<cv::Vec3b>(r, c)[0]; };
  EXPECT_LT(gray(10, 2), gray(10, 37));
  EXPECT_LT(gray(1, 20), gray(22, 20));
}
