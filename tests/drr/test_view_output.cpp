#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>

#include "drr_test_util.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/drr/view_output.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::drr;

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
