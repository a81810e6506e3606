#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "xraylift/core/error.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/viz/attention.hpp"

using namespace xraylift;

TEST(Attention, PeakBackProjectsIntoTheLungAlongItsRay) {
  // A lung block at x in [20, 80] mm; an AP camera (view 0 of the ring rig, source anterior).
  core::VolumeU8 lungs(core::VolumeGeometry::centered({100, 100, 100}, Eigen::Vector3d::Constant(2)), 0);
  for (int k = 30; k < 70; ++k)
    for (int j = 25; j < 75; ++j)
      for (int i = 60; i < 90; ++i) lungs.at(i, j, k) = 1;
  const core::Rig rig = core::Rig::ring({});
  const core::Camera& cam = rig.cameras()[0];
  const Eigen::Vector3d target(50, 0, 10);
  const Eigen::Vector2d uv = cam.project(target);
  cv::Mat heat(256, 256, CV_32F, cv::Scalar(0));
  const cv::Point peak(int(uv.x() / cam.width() * 256), int(uv.y() / cam.height() * 256));
  cv::circle(heat, peak, 6, cv::Scalar(1.0), cv::FILLED);
  cv::GaussianBlur(heat, heat, {0, 0}, 3);
  cv::circle(heat, {30, 30}, 4, cv::Scalar(0.6), cv::FILLED);  // a peak whose ray misses the lungs
  const auto spots = viz::attention_spots(heat, cam, lungs);
  ASSERT_EQ(spots.size(), 1u);
  // On the ray through the peak, in the middle of the lung block's depth (y in [-50, 50] mm here).
  EXPECT_NEAR(spots[0].centre.x(), 50, 6);
  EXPECT_NEAR(spots[0].centre.z(), 10, 6);
  EXPECT_NEAR(spots[0].centre.y(), 0, 6);
  EXPECT_NEAR(spots[0].diameter_mm, 30, 1e-3);  // intensity 1 = the largest sphere
  EXPECT_THROW(viz::attention_spots(cv::Mat(), cam, lungs), core::InputError);
}
