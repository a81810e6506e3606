#include <gtest/gtest.h>

#include "xraylift/core/error.hpp"
#include "xraylift/viz/render.hpp"

using namespace xraylift;

namespace {

viz::Scene two_node_scene() {
  viz::Scene s;
  viz::SceneNode lung;
  lung.name = "right_lung";
  lung.mesh = viz::make_sphere({0, 0, 0}, 60, 24, 48);
  lung.rgba = {1, 0, 0, 0.5f};
  lung.translucent = true;
  s.nodes.push_back(lung);
  viz::SceneNode nod;
  nod.name = "nodule_a_sphere";
  nod.kind = viz::NodeKind::kNodule;
  nod.mesh = viz::make_sphere({0, 0, 0}, 15, 12, 20);
  nod.rgba = {0, 1, 0, 1};
  s.nodes.push_back(nod);
  return s;
}

}  // namespace

TEST(Render, ModesOpacityAndPainterOrder) {
  const viz::Scene s = two_node_scene();
  viz::SceneRenderer r(s);
  const cv::Size size(320, 240);
  const viz::ViewTransform v = viz::orbit_view(s, 0, size);
  auto render = [&](viz::DisplayMode mode, double opacity) {
    cv::Mat img(size, CV_8UC3, cv::Scalar(0, 0, 0));
    viz::RenderOptions o;
    o.mode = mode;
    o.lung_opacity = opacity;
    r.render(img, v, o);
    return img.at<cv::Vec3b>(120, 160);  // the image centre: the nodule behind the shell's front
  };
  const cv::Vec3b both = render(viz::DisplayMode::kBoth, 0.5), lungs = render(viz::DisplayMode::kLungs, 0.5),
                  nodules = render(viz::DisplayMode::kNodules, 0.5), clear = render(viz::DisplayMode::kBoth, 0.0);
  EXPECT_GT(nodules[1], 150);  // green nodule alone
  EXPECT_EQ(nodules[2], 0);
  EXPECT_GT(lungs[2], 100);  // red shell at half opacity over black
  EXPECT_EQ(lungs[1], 0);
  EXPECT_GT(both[1], 50);     // nodule seen through the shell...
  EXPECT_GT(both[2], 50);     // ...tinted by it
  EXPECT_EQ(clear, nodules);  // opacity 0 hides the shell
  const cv::Vec3b corner = [&] {
    cv::Mat img(size, CV_8UC3, cv::Scalar(0, 0, 0));
    r.render(img, v, {});
    return img.at<cv::Vec3b>(2, 2);
  }();
  EXPECT_EQ(corner, cv::Vec3b(0, 0, 0));  // nothing drawn outside the scene
  EXPECT_THROW(viz::parse_display_mode("all"), core::ConfigError);
}
