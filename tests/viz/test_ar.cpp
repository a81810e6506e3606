#include <gtest/gtest.h>

#include <opencv2/calib3d.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <Eigen/Geometry>

#include "scene_fixture.hpp"
#include "xraylift/core/atomic_file.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/viz/ar.hpp"
#include "xraylift/viz/surface.hpp"

using namespace xraylift;

namespace {

const cv::Size k720p(1280, 720);

viz::CameraCalibration test_camera() {
  viz::CameraCalibration c;
  c.K = cv::Matx33d(950, 0, 639.5, 0, 950, 359.5, 0, 0, 1);
  c.image_size = k720p;
  return c;
}

cv::Mat textured_background() {
  cv::Mat bg(k720p, CV_8UC3);
  for (int r = 0; r < bg.rows; ++r)
    for (int c = 0; c < bg.cols; ++c)
      bg.at<cv::Vec3b>(r, c) =
          cv::Vec3b(uchar(120 + 30 * std::sin(c * 0.02)), uchar(110 + 20 * std::cos(r * 0.03)), 100);
  return bg;
}

// A frame with the marker (80 mm) at a known pose.
cv::Mat synth_frame(const viz::MarkerSpec& spec, const cv::Vec3d& rvec, const cv::Vec3d& tvec) {
  const int cell = 40;
  const cv::Mat marker = viz::marker_image(spec, cell, 2 * cell);
  const double mm_per_px = spec.size_mm / ((viz::marker_bits(spec.dictionary) + 2) * cell);
  cv::Mat frame = textured_background();
  viz::draw_planar_view(frame, marker, mm_per_px, test_camera().K, rvec, tvec);
  return frame;
}

// A marker facing the camera (its +Z toward the camera), tilted by `tilt` (a rotation vector in marker axes).
cv::Vec3d facing(const cv::Vec3d& tilt) {
  cv::Matx33d T, F;
  cv::Rodrigues(tilt, T);
  cv::Rodrigues(cv::Vec3d(M_PI, 0, 0), F);
  cv::Vec3d r;
  cv::Rodrigues(F * T, r);
  return r;
}

double angle_deg(const cv::Vec3d& r1, const cv::Vec3d& r2) {
  cv::Matx33d A, B;
  cv::Rodrigues(r1, A);
  cv::Rodrigues(r2, B);
  const cv::Matx33d D = A.t() * B;
  return std::acos(std::clamp((cv::trace(D) - 1) / 2, -1.0, 1.0)) * 180 / M_PI;
}

}  // namespace

TEST(ArMarker, PoseFromSynthesizedFramesWithinTwoDegreesTwoMm) {
  viz::MarkerSpec spec;
  viz::MarkerTracker tracker(spec, test_camera());
  const cv::Vec3d poses[][2] = {{facing({0.5, 0.1, 0.05}), {20, -10, 420}},
                                {facing({-0.4, 0.35, 1.2}), {-60, 30, 380}},
                                {facing({0.2, 0.6, 2.6}), {40, 50, 500}}};
  for (const auto& p : poses) {
    const cv::Mat frame = synth_frame(spec, p[0], p[1]);
    const viz::MarkerPose est = tracker.detect(frame);
    ASSERT_TRUE(est.found);
    EXPECT_EQ(est.id, 0);
    EXPECT_LT(angle_deg(est.rvec, p[0]), 2.0) << p[0];
    EXPECT_LT(cv::norm(est.tvec - p[1]), 2.0) << p[1] << " vs " << est.tvec;
  }
}

TEST(ArMarker, NoMarkerNoPoseAndOtherIdIgnored) {
  viz::MarkerSpec spec;
  viz::MarkerTracker tracker(spec, test_camera());
  EXPECT_FALSE(tracker.detect(textured_background()).found);
  viz::MarkerSpec other = spec;
  other.id = 7;
  const cv::Mat frame = synth_frame(other, facing({0.3, 0, 0}), {0, 0, 400});
  EXPECT_FALSE(tracker.detect(frame).found);
  other.id = 300;
  EXPECT_THROW(viz::MarkerTracker(other, test_camera()), core::InputError);
}

TEST(ArOverlay, SceneLandsOnTheMarker) {
  const auto& scene = viz::testing::fixture_scene();
  viz::MarkerSpec spec;
  const cv::Vec3d rvec = facing({0.45, -0.2, 0.1}), tvec(10, 5, 450);
  const cv::Mat frame = synth_frame(spec, rvec, tvec);
  viz::MarkerTracker tracker(spec, test_camera());
  const viz::MarkerPose pose = tracker.detect(frame);
  ASSERT_TRUE(pose.found);
  viz::SceneRenderer renderer(scene);
  viz::RenderOptions ro;
  ro.lung_opacity = 0.8;
  auto overlay_mask = [&](const viz::MarkerPose& p, cv::Mat* drawn) {
    cv::Mat out = frame.clone(), diff;
    renderer.render(out, viz::marker_view(scene, spec, {}, p, test_camera()), ro);
    if (drawn) *drawn = out;
    cv::absdiff(out, frame, diff);
    cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
    return cv::Mat(diff > 20);
  };
  cv::Mat drawn;
  const cv::Mat changed = overlay_mask(pose, &drawn);
  viz::MarkerPose truth = pose;
  truth.rvec = rvec;
  truth.tvec = tvec;
  const cv::Mat expected = overlay_mask(truth, nullptr);
  cv::imwrite((xraylift::testing::scratch_dir("viz_ar_overlay") / "overlay.png").string(), drawn);
  ASSERT_GT(cv::countNonZero(changed), 2000);
  // Same overlay as with the true pose...
  const double inter = cv::countNonZero(changed & expected), uni = cv::countNonZero(changed | expected);
  EXPECT_GT(inter / uni, 0.9);
  // ...and it covers the marker: the scene is centred on it.
  std::vector<cv::Point2f> centre;
  cv::projectPoints(std::vector<cv::Point3f>{{0, 0, 0}}, rvec, tvec, test_camera().K, cv::noArray(), centre);
  const cv::Rect box = cv::boundingRect(changed);
  EXPECT_TRUE(box.contains(cv::Point(cvRound(centre[0].x), cvRound(centre[0].y))));
  const cv::Moments m = cv::moments(changed, true);
  const cv::Point2f overlay(float(m.m10 / m.m00), float(m.m01 / m.m00));
  EXPECT_LT(cv::norm(overlay - centre[0]), 0.25 * std::max(box.width, box.height)) << overlay << " vs " << centre[0];
}

TEST(ArOverlay, TracksAndDrawsEveryFrameAt720pWith20kTriangles) {
  // Detection + smoothing + rendering a ~20k-triangle scene over a 1280x720 frame, every frame. How fast it runs is
  // measured by bench/viz (BM_ArFrame720p20kTriangles, docs/BENCHMARKS.md "viz"), not asserted here: wall-clock
  // limits fail on a loaded CI machine.
  viz::Scene scene;
  viz::SceneNode lung;
  lung.name = "right_lung";
  lung.mesh = viz::make_sphere({-60, 0, 0}, 90, 50, 100);
  lung.rgba = {0.93f, 0.62f, 0.6f, 0.4f};
  lung.translucent = true;
  scene.nodes.push_back(lung);
  lung.name = "left_lung";
  lung.mesh = viz::make_sphere({60, 0, 0}, 90, 50, 100);
  scene.nodes.push_back(lung);
  viz::add_nodules(scene, viz::testing::fixture_boxes());
  ASSERT_GT(scene.triangle_count(), 19000u);
  viz::MarkerSpec spec;
  const cv::Mat frame = synth_frame(spec, facing({0.4, 0.1, 0.0}), {0, 0, 450});
  viz::MarkerTracker tracker(spec, test_camera());
  viz::PoseSmoother smoother;
  viz::SceneRenderer renderer(scene);
  const int n = 5;
  int found = 0, drawn = 0;
  for (int i = 0; i < n; ++i) {
    cv::Mat out = frame.clone();
    const auto pose = smoother.update(tracker.detect(out));
    found += pose.found;
    if (!pose.found) continue;
    renderer.render(out, viz::marker_view(scene, spec, {}, pose, test_camera()), {});
    cv::Mat diff;
    cv::absdiff(out, frame, diff);
    cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
    drawn += cv::countNonZero(diff > 0) > 2000;  // the lungs cover far more of the frame
  }
  EXPECT_EQ(found, n);
  EXPECT_EQ(drawn, n);
}

TEST(PoseSmoother, AveragesJitterAndHoldsBriefly) {
  viz::PoseSmoother s(0.3, 2);
  viz::MarkerPose p;
  p.found = true;
  p.rvec = {0.1, 0, 0};
  p.tvec = {0, 0, 400};
  s.update(p);
  viz::MarkerPose q = p;
  q.tvec = {2, 0, 400};
  const auto out = s.update(q);
  EXPECT_NEAR(out.tvec[0], 0.6, 1e-9);
  viz::MarkerPose lost;
  EXPECT_TRUE(s.update(lost).found);
  EXPECT_TRUE(s.update(lost).found);
  EXPECT_FALSE(s.update(lost).found);
  EXPECT_THROW(viz::PoseSmoother(0.0), core::InputError);
}

TEST(Calibration, ChessboardRecoversFocalLength) {
  const cv::Mat board = viz::chessboard_image({9, 6}, 60);
  const double square_mm = 25, mm_per_px = square_mm / 60;
  std::vector<cv::Mat> images;
  const cv::Vec3d rv[] = {{0.3, 0.2, 0}, {-0.35, 0.1, 0.1}, {0.1, -0.4, -0.1}, {0.4, 0.4, 0.2}, {-0.2, -0.3, 0.3}};
  for (const auto& r : rv) {
    cv::Mat img(k720p, CV_8UC3, cv::Scalar(90, 90, 90));
    viz::draw_planar_view(img, board, mm_per_px, test_camera().K, r, {0, 0, 600});
    images.push_back(img);
  }
  int used = 0;
  const auto cal = viz::calibrate_chessboard(images, {9, 6}, square_mm, &used);
  EXPECT_EQ(used, 5);
  EXPECT_NEAR(cal.K(0, 0) / 950, 1.0, 0.02);
  EXPECT_NEAR(cal.K(1, 1) / 950, 1.0, 0.02);
  EXPECT_LT(cal.rms_px, 0.5);
  const auto dir = xraylift::testing::scratch_dir("viz_calib");
  viz::save_calibration(dir / "camera.yaml", cal);
  const auto back = viz::load_calibration(dir / "camera.yaml");
  EXPECT_NEAR(back.K(0, 0), cal.K(0, 0), 1e-6);
  EXPECT_EQ(back.image_size, k720p);
  EXPECT_THROW(viz::calibrate_chessboard({images[0]}, {9, 6}, square_mm), core::InputError);
}

TEST(Marker, PdfHasExactSizeAndPngDecodes) {
  viz::MarkerSpec spec;
  spec.size_mm = 100;
  const auto dir = xraylift::testing::scratch_dir("viz_marker");
  viz::write_marker_pdf(dir / "m.pdf", spec);
  const std::string pdf = core::read_file(dir / "m.pdf");
  EXPECT_EQ(pdf.rfind("%PDF-1.4", 0), 0u);
  EXPECT_NE(pdf.find("%%EOF"), std::string::npos);
  // 8 cells of 100/8 mm = 35.433 pt each.
  EXPECT_NE(pdf.find(" 35.433 35.433 re"), std::string::npos);
  const cv::Mat img = viz::marker_image(spec, 10, 20);
  EXPECT_EQ(img.rows, 8 * 10 + 40);
  viz::MarkerTracker tracker(spec, viz::CameraCalibration::guess(img.size()));
  cv::Mat big;
  cv::copyMakeBorder(img, big, 50, 50, 50, 50, cv::BORDER_CONSTANT, cv::Scalar(255));
  EXPECT_TRUE(tracker.detect(big).found);
}
