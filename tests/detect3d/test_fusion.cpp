// The fusion detector (docs/detect3d.md "fusion"): config, grid and memory; projection and sampling against core's
// camera and a brute-force bilinear reference; aggregation; CenterNet targets and loss on hand-computed cases; decode
// of planted peaks; the whole model overfitting one synthetic case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <tuple>

#include "xraylift/core/device.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect3d/fusion/config.hpp"
#include "xraylift/detect3d/fusion/model.hpp"
#include "xraylift/testing/testing.hpp"

namespace xraylift::detect3d::fusion {
namespace {

core::Config yaml(const std::string& text) { return core::Config::from_yaml(text, "fusion.yaml"); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "";
}

core::Rig small_ring(int pixels, double pixel_size_mm) {
  core::RingSpec spec;
  spec.detector.width = spec.detector.height = pixels;
  spec.detector.pixel_size_mm = pixel_size_mm;
  return core::Rig::ring(spec);
}

// ---- config, grid, memory ----

TEST(FusionConfig, ReadsItsSectionAndRefusesUnknownKeys) {
  const auto config = yaml(
      "detect3d:\n  scene: {min_mm: [-60, -50, -40], max_mm: [60, 50, 40]}\n  fusion:\n    voxel_mm: 3\n"
      "    encoder: {stride: 4, channels: 8}\n    aggregation: {mode: mean_quantile, quantile: 0.2}\n"
      "    net: {channels: 16, blocks: 1, scales: 2, groups: 4}\n    decode: {top_k: 7, score_threshold: 0.3}\n");
  const auto f = FusionConfig::from_config(config.section("detect3d").section("fusion"),
                                           SceneRange::from_config(config.section("detect3d.scene")));
  EXPECT_EQ(f.voxel_mm, 3);
  EXPECT_EQ(f.scene.min_mm, Eigen::Vector3d(-60, -50, -40));
  EXPECT_EQ(f.encoder_stride, 4);
  EXPECT_EQ(f.lift_channels, 8);
  EXPECT_EQ(f.aggregation, "mean_quantile");
  EXPECT_EQ(f.quantile, 0.2);
  EXPECT_EQ(f.scales, 2);
  EXPECT_EQ(f.top_k, 7);
  EXPECT_EQ(f.peak_kernel, 3);  // default
  EXPECT_EQ(f.input_channels(), 17);

  const auto typo = yaml("detect3d:\n  fusion:\n    voxel_mm: 3\n    net: {chanels: 16}\n");
  const auto message = error_of([&] { FusionConfig::from_config(typo.section("detect3d").section("fusion")); });
  EXPECT_NE(message.find("'detect3d.fusion.net.chanels' (from fusion.yaml)"), std::string::npos) << message;
  EXPECT_THROW(FusionConfig::from_config(typo.section("detect3d").section("fusion")), core::ConfigError);

  const auto bad = yaml("detect3d:\n  fusion:\n    decode: {peak_kernel: 4}\n");
  const auto bad_message = error_of([&] { FusionConfig::from_config(bad.section("detect3d").section("fusion")); });
  EXPECT_NE(bad_message.find("config section 'detect3d.fusion' (from fusion.yaml)"), std::string::npos) << bad_message;
  EXPECT_NE(bad_message.find("decode.peak_kernel must be odd"), std::string::npos) << bad_message;

  // The scene box is the shared detect3d.scene (its metre-scale refusal: test Method.*); here it is an unknown key.
  const auto own_scene = yaml("detect3d:\n  fusion:\n    scene: {min_mm: [-60, -60, -60], max_mm: [60, 60, 60]}\n");
  EXPECT_THROW(FusionConfig::from_config(own_scene.section("detect3d").section("fusion")), core::ConfigError);
}

TEST(FusionConfig, GridCoversTheSceneWithCentredCubicVoxels) {
  FusionConfig c;
  c.scene.min_mm = {-100, -80, -50};
  c.scene.max_mm = {100, 70, 50};
  c.voxel_mm = 4;
  const auto g = fusion_grid(c);
  EXPECT_EQ(g.dims, Eigen::Vector3i(50, 38, 25));  // 200 / 4, ceil(150 / 4), 100 / 4
  EXPECT_EQ(g.spacing, Eigen::Vector3d::Constant(4));
  const auto bounds = g.world_bounds();
  for (int a = 0; a < 3; ++a) {
    EXPECT_LE(bounds.min()[a], c.scene.min_mm[a] + 1e-9);
    EXPECT_GE(bounds.max()[a], c.scene.max_mm[a] - 1e-9);
    EXPECT_NEAR(g.center_world()[a], 0.5 * (c.scene.min_mm[a] + c.scene.max_mm[a]), 1e-9);
  }
}

TEST(FusionConfig, MemoryEstimateAndLimitNameTheGrid) {
  FusionConfig c;
  c.voxel_mm = 4;  // the default +-200 mm scene: 100^3 voxels
  const auto e = estimate_memory(c, 10, 256, 256, true);
  EXPECT_EQ(e.voxels, 1000000);
  const double mb = 1024.0 * 1024.0;
  EXPECT_NEAR(e.projection_mb, 10 * 1e6 * 12 / mb, 1e-9);
  EXPECT_NEAR(e.feature_mb, 10 * 16 * 32 * 32 * 4 / mb, 1e-9);
  EXPECT_NEAR(e.lifted_mb, 2 * (10 * 16 * 1e6 * 2 + 33 * 1e6) * 4 / mb, 1e-6);
  EXPECT_NEAR(e.total_mb, e.projection_mb + e.feature_mb + e.lifted_mb + e.network_mb, 1e-9);
  const auto inference = estimate_memory(c, 10, 256, 256, false);
  EXPECT_LT(inference.total_mb, e.total_mb);
  c.voxel_mm = 2;  // eight times the voxels
  EXPECT_NEAR(estimate_memory(c, 10, 256, 256, true).lifted_mb, 8 * e.lifted_mb, 1e-6);

  c.max_memory_mb = 1000;
  const auto message = error_of([&] { check_memory(c, 10, 256, 256, true, "test"); });
  EXPECT_NE(message.find("200 x 200 x 200 (8000000 voxels of 2 mm)"), std::string::npos) << message;
  EXPECT_NE(message.find("max_memory_mb is 1000"), std::string::npos) << message;
  EXPECT_THROW(check_memory(c, 10, 256, 256, true, "test"), core::ConfigError);
  c.voxel_mm = 10;
  EXPECT_NO_THROW(check_memory(c, 10, 256, 256, true, "test"));
}

// ---- lifting ----

TEST(FusionLift, ProjectionMatchesCoreCameraOnRandomPoints) {
  const auto rig = core::Rig::ring(core::RingSpec{});  // 1024 px
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-150, 150);
  const int n = 500;
  auto points = torch::empty({n, 3}, torch::kFloat64);
  for (int i = 0; i < n; ++i)
    for (int a = 0; a < 3; ++a) points[i][a] = u(rng);
  const auto p = project_points(points, projection_matrices(rig.cameras()));
  ASSERT_EQ(p.uv.sizes(), (torch::IntArrayRef{10, n, 2}));
  const auto uv = p.uv.accessor<double, 3>();
  const auto depth = p.depth.accessor<double, 2>();
  for (std::size_t v = 0; v < rig.size(); ++v)
    for (int i = 0; i < n; ++i) {
      const Eigen::Vector3d x(points[i][0].item<double>(), points[i][1].item<double>(), points[i][2].item<double>());
      const Eigen::Vector2d expected = rig[v].project(x);
      ASSERT_NEAR(uv[v][i][0], expected.x(), 1e-9);
      ASSERT_NEAR(uv[v][i][1], expected.y(), 1e-9);
      ASSERT_NEAR(depth[v][i], rig[v].depth(x), 1e-9);
    }
}

TEST(FusionLift, VoxelCentresFollowTheVolumeConvention) {
  FusionConfig c;
  c.scene.min_mm = {-60, -40, -30};
  c.scene.max_mm = {40, 40, 50};
  c.voxel_mm = 10;
  const auto g = fusion_grid(c);
  const auto centres = voxel_centers(g, torch::kCPU);
  ASSERT_EQ(centres.size(0), g.voxel_count());
  const core::VolumeF volume(g);
  for (int k : {0, 3, g.dims.z() - 1})
    for (int j : {0, 5, g.dims.y() - 1})
      for (int i : {0, 2, g.dims.x() - 1}) {
        const Eigen::Vector3d expected = g.index_to_world(Eigen::Vector3d(i, j, k));
        for (int a = 0; a < 3; ++a) EXPECT_DOUBLE_EQ(centres[volume.linear(i, j, k)][a].item<double>(), expected[a]);
      }
}

// A bilinear read of a [C, H, W] map at continuous pixel (u, v) of a stride-s map, cell i centred at (i + 0.5) s,
// zero outside the map: the convention the lift promises, stated independently of grid_sample.
double brute_force_bilinear(const torch::Tensor& map, int channel, double u, double v, int stride) {
  const double x = u / stride - 0.5, y = v / stride - 0.5;
  const int x0 = int(std::floor(x)), y0 = int(std::floor(y));
  double sum = 0;
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx) {
      const int xi = x0 + dx, yi = y0 + dy;
      if (xi < 0 || yi < 0 || xi >= map.size(2) || yi >= map.size(1)) continue;
      const double w = (1 - std::abs(x - xi)) * (1 - std::abs(y - yi));
      sum += w * map[channel][yi][xi].item<double>();
    }
  return sum;
}

TEST(FusionLift, SamplingFollowsThePixelCentreConvention) {
  const int stride = 4, wf = 8, hf = 6;
  // A map whose cell holds its centre's pixel x coordinate: the bilinear sample at u inside the centres is u.
  auto ramp = torch::empty({1, 1, hf, wf});
  for (int r = 0; r < hf; ++r)
    for (int c = 0; c < wf; ++c) ramp[0][0][r][c] = (c + 0.5) * stride;
  const std::vector<double> us = {2.0, 2.5, 7.3, 16.0, 29.99};
  auto uv = torch::empty({1, int64_t(us.size()), 2}, torch::kFloat64);
  for (std::size_t i = 0; i < us.size(); ++i) {
    uv[0][i][0] = us[i];
    uv[0][i][1] = 10.0;
  }
  LiftGrid lift;
  lift.grid = sample_coordinates(uv, wf, hf, stride).to(torch::kFloat32).unsqueeze(1);
  const auto sampled = sample_views(ramp, lift);
  for (std::size_t i = 0; i < us.size(); ++i) EXPECT_NEAR(sampled[0][0][i].item<double>(), us[i], 1e-4) << us[i];

  // Random maps and points, inside, at the border and outside, against the brute-force read.
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> pos(-10, 42);
  auto features = torch::randn({2, 3, hf, wf});
  const int n = 200;
  auto points = torch::empty({2, n, 2}, torch::kFloat64);
  for (int v = 0; v < 2; ++v)
    for (int i = 0; i < n; ++i) {
      points[v][i][0] = pos(rng);
      points[v][i][1] = pos(rng) * 0.75;
    }
  lift.grid = sample_coordinates(points, wf, hf, stride).to(torch::kFloat32).unsqueeze(1);
  const auto random_samples = sample_views(features, lift);
  for (int v = 0; v < 2; ++v)
    for (int i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c)
        ASSERT_NEAR(random_samples[v][c][i].item<double>(),
                    brute_force_bilinear(features[v], c, points[v][i][0].item<double>(), points[v][i][1].item<double>(),
                                         stride),
                    1e-4);
}

TEST(FusionLift, LiftGridMarksWhatEachViewSees) {
  const auto rig = small_ring(64, 3.125);  // 100 mm field at the isocentre
  FusionConfig c;
  c.scene.min_mm = Eigen::Vector3d::Constant(-80);
  c.scene.max_mm = Eigen::Vector3d::Constant(80);
  c.voxel_mm = 10;
  const auto g = fusion_grid(c);
  const auto lift = make_lift_grid(g, rig.cameras(), 4, 16, 16, torch::kCPU);
  ASSERT_EQ(lift.grid.sizes(), (torch::IntArrayRef{10, 1, g.voxel_count(), 2}));
  const auto visible = lift.visible.accessor<bool, 2>();
  const core::VolumeF volume(g);
  int seen = 0, unseen = 0;
  for (std::size_t v = 0; v < rig.size(); ++v)
    for (int k = 0; k < g.dims.z(); ++k)
      for (int j = 0; j < g.dims.y(); ++j)
        for (int i = 0; i < g.dims.x(); ++i) {
          const Eigen::Vector3d x = g.index_to_world(Eigen::Vector3d(i, j, k));
          const bool expected = rig[v].depth(x) > 0 && rig[v].in_image(rig[v].project(x));
          ASSERT_EQ(visible[v][volume.linear(i, j, k)], expected) << v << " " << x.transpose();
          (expected ? seen : unseen) += 1;
        }
  EXPECT_GT(seen, 0);
  EXPECT_GT(unseen, 0);  // the +-80 mm grid is wider than the field

  core::VolumeGeometry above = g;
  above.origin.z() += 5000;  // far above every view's field
  const auto message = error_of([&] { make_lift_grid(above, rig.cameras(), 4, 16, 16, torch::kCPU); });
  EXPECT_NE(message.find("is seen by any of the 10 views"), std::string::npos) << message;
}

TEST(FusionLift, AggregationIsOverTheVisibleViewsAndOrderInvariant) {
  torch::manual_seed(5);
  const int views = 6, channels = 2, n = 40;
  const auto samples = torch::randn({views, channels, n}, torch::kFloat64);
  auto visible = torch::rand({views, n}) > 0.4;
  visible.select(1, 0).fill_(false);  // voxel 0: no view
  visible.select(1, 1).fill_(false);
  visible[2][1] = true;  // voxel 1: one view
  const auto mean_std = aggregate_views(samples, visible, "mean_std", 0.25);
  const auto mean_q = aggregate_views(samples, visible, "mean_quantile", 0.25);
  ASSERT_EQ(mean_std.sizes(), (torch::IntArrayRef{2 * channels + 1, n}));
  for (int i = 0; i < n; ++i) {
    std::vector<int> seen;
    for (int v = 0; v < views; ++v)
      if (visible[v][i].item<bool>()) seen.push_back(v);
    EXPECT_DOUBLE_EQ(mean_std[2 * channels][i].item<double>(), double(seen.size()) / views);
    for (int c = 0; c < channels; ++c) {
      std::vector<double> values;
      for (int v : seen) values.push_back(samples[v][c][i].item<double>());
      double mean = 0, variance = 0;
      for (double x : values) mean += x / std::max<std::size_t>(1, values.size());
      for (double x : values) variance += (x - mean) * (x - mean) / values.size();
      std::sort(values.begin(), values.end());
      double quantile = 0;
      if (!values.empty()) {
        const double position = 0.25 * (values.size() - 1);
        const std::size_t lo = std::size_t(std::floor(position)), hi = std::min(lo + 1, values.size() - 1);
        quantile = values[lo] + (position - lo) * (values[hi] - values[lo]);
      }
      EXPECT_NEAR(mean_std[c][i].item<double>(), mean, 1e-12);
      EXPECT_NEAR(mean_q[c][i].item<double>(), mean, 1e-12);
      EXPECT_NEAR(mean_std[channels + c][i].item<double>(), values.empty() ? 0.0 : std::sqrt(variance + 1e-8), 1e-12);
      EXPECT_NEAR(mean_q[channels + c][i].item<double>(), quantile, 1e-12) << i;
    }
  }
  const auto order = torch::randperm(views, torch::kLong);
  for (const char* mode : {"mean_std", "mean_quantile"})
    EXPECT_TRUE(
        torch::allclose(aggregate_views(samples.index_select(0, order), visible.index_select(0, order), mode, 0.25),
                        aggregate_views(samples, visible, mode, 0.25), 1e-12, 1e-12))
        << mode;
}

// ---- targets, loss, decode ----

core::VolumeGeometry line_grid(int nx, double voxel_mm) {
  core::VolumeGeometry g;
  g.dims = {nx, 1, 1};
  g.spacing = Eigen::Vector3d::Constant(voxel_mm);
  return g;
}

core::BoxRecord truth_at(const Eigen::Vector3d& centre, double size_mm, bool ignore = false) {
  core::BoxRecord r;
  r.box.center = centre;
  r.box.size = Eigen::Vector3d::Constant(size_mm);
  r.ignore = ignore;
  return r;
}

TEST(FusionTargets, GaussianOffsetAndSizeAtTheCentreVoxel) {
  core::VolumeGeometry g;
  g.dims = {9, 9, 9};
  g.spacing = Eigen::Vector3d::Constant(2);
  g.origin = {-8, -8, -8};
  FusionConfig c;  // min radius 1 voxel, radius_fraction 1, size prior 10 mm
  // Centre 0.6 mm (0.3 voxel) right of voxel (4, 4, 4)'s centre, 2 mm: radius max(1, 0.5 * 2 / 2) = 1, sigma 0.5.
  auto box = truth_at({0.6, -0.4, 0}, 2);
  box.box.size = {2, 3, 4};
  const auto t = make_targets(g, {box, truth_at({500, 0, 0}, 5)}, c, torch::kCPU);
  ASSERT_EQ(t.centers.size(0), 1);  // the second truth lies outside the grid
  EXPECT_EQ(t.centers[0].item<int64_t>(), 4 + 9 * (4 + 9 * 4));
  EXPECT_NEAR(t.offset[0][0].item<double>(), 0.3, 1e-6);
  EXPECT_NEAR(t.offset[0][1].item<double>(), -0.2, 1e-6);
  EXPECT_NEAR(t.offset[0][2].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(t.log_size[0][0].item<double>(), std::log(0.2), 1e-6);
  EXPECT_NEAR(t.log_size[0][2].item<double>(), std::log(0.4), 1e-6);
  // Mean extent 3 mm: radius max(1, 0.75) = 1; face, edge and corner neighbours e^-2, e^-4, e^-6; nothing beyond.
  const auto h = t.heatmap.accessor<float, 3>();
  EXPECT_FLOAT_EQ(h[4][4][4], 1.0f);
  EXPECT_FLOAT_EQ(h[4][4][5], float(std::exp(-2.0)));
  EXPECT_FLOAT_EQ(h[3][4][4], float(std::exp(-2.0)));
  EXPECT_FLOAT_EQ(h[4][5][5], float(std::exp(-4.0)));
  EXPECT_FLOAT_EQ(h[5][3][5], float(std::exp(-6.0)));
  EXPECT_FLOAT_EQ(h[4][4][6], 0.0f);
  EXPECT_FLOAT_EQ(t.heatmap.sum().item<float>(),
                  float(1 + 6 * std::exp(-2.0) + 12 * std::exp(-4.0) + 8 * std::exp(-6.0)));
  EXPECT_FLOAT_EQ(t.negative_weight.sum().item<float>(), 729.0f);

  // A 12 mm truth: radius 0.5 * 12 / 2 = 3 voxels, sigma 7 / 6; an ignore truth only zeroes negative weights.
  const auto big = make_targets(g, {truth_at({0, 0, 0}, 12), truth_at({-7, -7, -7}, 2.5, true)}, c, torch::kCPU);
  ASSERT_EQ(big.centers.size(0), 1);
  const double sigma = 7.0 / 6.0;
  EXPECT_FLOAT_EQ(big.heatmap[4][4][7].item<float>(), float(std::exp(-9 / (2 * sigma * sigma))));
  EXPECT_FLOAT_EQ(big.heatmap[4][4][8].item<float>(), 0.0f);
  // The ignore box spans -8.25..-5.75 mm: it overlaps the cells of voxels 0 and 1 (centres -8, -6) on every axis.
  EXPECT_FLOAT_EQ(big.negative_weight.sum().item<float>(), 729.0f - 8.0f);
  EXPECT_FLOAT_EQ(big.negative_weight[0][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(big.negative_weight[1][1][1].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(big.negative_weight[2][1][1].item<float>(), 1.0f);
}

TEST(FusionTargets, PenaltyReducedFocalLossByHand) {
  // Three voxels in a row, a truth at the middle one with radius 1: targets e^-2, 1, e^-2.
  const auto g = line_grid(3, 4);
  FusionConfig c;
  const auto t = make_targets(g, {truth_at({4, 0, 0}, 4)}, c, torch::kCPU);
  const double y = std::exp(-2.0);
  const std::vector<double> logits = {-1.0, 2.0, 0.5};
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  const double p0 = sig(logits[0]), p1 = sig(logits[1]), p2 = sig(logits[2]);
  const double positive = -std::pow(1 - p1, 2) * std::log(p1);
  const double negative0 = -std::pow(1 - y, 4) * std::pow(p0, 2) * std::log(1 - p0);
  const double negative2 = -std::pow(1 - y, 4) * std::pow(p2, 2) * std::log(1 - p2);
  const auto x = torch::tensor(logits).reshape({1, 1, 3});
  EXPECT_NEAR(penalty_reduced_focal_loss(x, t, 2, 4).item<double>(), positive + negative0 + negative2, 1e-6);
  // Two objects: the same sum over twice the positives is halved per object.
  const auto two = make_targets(line_grid(3, 4), {truth_at({4, 0, 0}, 4), truth_at({4.1, 0, 0}, 4)}, c, torch::kCPU);
  EXPECT_NEAR(penalty_reduced_focal_loss(x, two, 2, 4).item<double>(), (positive + negative0 + negative2) / 2, 1e-6);
  // An ignore region over voxel 0 removes its negative term; nothing else changes.
  const auto ignored = make_targets(g, {truth_at({4, 0, 0}, 4), truth_at({0, 0, 0}, 1, true)}, c, torch::kCPU);
  EXPECT_NEAR(penalty_reduced_focal_loss(x, ignored, 2, 4).item<double>(), positive + negative2, 1e-6);
  // No object: negatives summed, divided by 1.
  const auto none = make_targets(g, {}, c, torch::kCPU);
  const double n1 = -std::pow(p1, 2) * std::log(1 - p1);
  EXPECT_NEAR(penalty_reduced_focal_loss(x, none, 2, 4).item<double>(),
              -std::pow(p0, 2) * std::log(1 - p0) + n1 - std::pow(p2, 2) * std::log(1 - p2), 1e-6);
}

FusionOutput planted_output(const core::VolumeGeometry& g) {
  FusionOutput out;
  out.grid = g;
  const auto d = g.dims;
  out.heatmap = torch::full({1, 1, d.z(), d.y(), d.x()}, -10.0);
  out.offset = torch::zeros({1, 3, d.z(), d.y(), d.x()});
  out.log_size = torch::zeros({1, 3, d.z(), d.y(), d.x()});
  return out;
}

TEST(FusionTargets, LossesAreL1AtTheCentreVoxels) {
  core::VolumeGeometry g;
  g.dims = {5, 4, 3};
  g.spacing = Eigen::Vector3d::Constant(5);
  FusionConfig c;
  auto out = planted_output(g);
  auto a = truth_at({5.5, 5, 5}, 10), b = truth_at({15, 10, 0}, 20);
  const auto t = make_targets(g, {a, b}, c, torch::kCPU);
  out.offset[0][0][1][1][1] = 0.3f;              // truth a's offset is 0.1 voxel: error 0.2
  out.log_size[0][2][0][2][3] = std::log(2.0f);  // truth b's log size is log 2 on every axis: error 0 on z
  const auto losses = fusion_losses(out, t, c);
  EXPECT_NEAR(losses.at("loss_offset").item<double>(), 0.2 / 2, 1e-6);
  EXPECT_NEAR(losses.at("loss_size").item<double>(), (0 + 0 + 0 + std::log(2.0) * 2) / 2, 1e-6);
  EXPECT_NEAR(losses.at("loss").item<double>(),
              (losses.at("loss_heatmap") + losses.at("loss_offset") + losses.at("loss_size")).item<double>(), 1e-9);
}

TEST(FusionDecode, RecoversPlantedPeaksInWorldMillimetres) {
  core::VolumeGeometry g;
  g.dims = {10, 8, 6};
  g.spacing = Eigen::Vector3d::Constant(4);
  g.origin = {-18, -14, -10};
  FusionConfig c;
  c.score_threshold = 0.2;
  auto out = planted_output(g);
  struct Plant {
    int x, y, z;
    float logit, ox, oy, oz, lx, ly, lz;
  };
  const std::vector<Plant> plants = {{2, 3, 1, 3.0f, 0.25f, -0.1f, 0.4f, 0.0f, 0.5f, -0.5f},
                                     {7, 6, 4, 1.5f, -0.4f, 0.3f, 0.0f, 0.2f, 0.2f, 0.2f},
                                     {9, 0, 5, -2.0f, 0, 0, 0, 0, 0, 0}};  // sigmoid 0.12: below the threshold
  for (const auto& p : plants) {
    out.heatmap[0][0][p.z][p.y][p.x] = p.logit;
    out.offset[0][0][p.z][p.y][p.x] = p.ox;
    out.offset[0][1][p.z][p.y][p.x] = p.oy;
    out.offset[0][2][p.z][p.y][p.x] = p.oz;
    out.log_size[0][0][p.z][p.y][p.x] = p.lx;
    out.log_size[0][1][p.z][p.y][p.x] = p.ly;
    out.log_size[0][2][p.z][p.y][p.x] = p.lz;
  }
  out.heatmap[0][0][1][3][3] = 2.0f;  // a shoulder of the first peak: not a local maximum
  const auto boxes = decode(out, c);
  ASSERT_EQ(boxes.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& p = plants[i];
    const Eigen::Vector3d centre = g.origin + 4.0 * Eigen::Vector3d(p.x + p.ox, p.y + p.oy, p.z + p.oz);
    EXPECT_NEAR((boxes[i].box.center - centre).norm(), 0.0, 1e-5) << i;
    EXPECT_NEAR(boxes[i].box.size.x(), 10 * std::exp(double(p.lx)), 1e-5);
    EXPECT_NEAR(boxes[i].box.size.z(), 10 * std::exp(double(p.lz)), 1e-5);
    EXPECT_NEAR(boxes[i].score, 1 / (1 + std::exp(-double(p.logit))), 1e-6);
    EXPECT_EQ(boxes[i].source, core::BoxSource::kPrediction);
    EXPECT_EQ(boxes[i].id, core::cat("fusion", i));
  }
  c.top_k = 1;
  EXPECT_EQ(decode(out, c).size(), 1u);
  c.top_k = 50;
  c.peak_kernel = 1;  // every voxel is its own peak: the shoulder comes back
  EXPECT_EQ(decode(out, c).size(), 3u);

  const auto volume = heatmap_volume(out);
  EXPECT_EQ(volume.dims(), g.dims);
  EXPECT_EQ(volume.geometry().origin, g.origin);
  EXPECT_NEAR(volume.at(2, 3, 1), 1 / (1 + std::exp(-3.0)), 1e-6);
  EXPECT_NEAR(volume.at(7, 6, 4), 1 / (1 + std::exp(-1.5)), 1e-6);
  EXPECT_LT(volume.at(0, 0, 0), 1e-4);
  const auto i16 = probability_volume_i16(volume);
  EXPECT_EQ(i16.at(2, 3, 1), std::int16_t(std::lround(10000 / (1 + std::exp(-3.0)))));
}

// ---- the model ----

detect2d::ModelConfig tiny_encoder() {
  detect2d::ModelConfig m;
  m.depth = 18;
  m.base_width = 8;
  m.norm = "gn";
  m.gn_groups = 4;
  m.fpn_stages = {1, 2};
  m.fpn_extra_levels = 0;
  m.fpn_channels = 16;
  return m;
}

FusionConfig tiny_fusion() {
  FusionConfig c;
  c.scene.min_mm = Eigen::Vector3d::Constant(-48);
  c.scene.max_mm = Eigen::Vector3d::Constant(48);
  c.voxel_mm = 6;  // 16^3
  c.encoder_stride = 4;
  c.lift_channels = 8;
  c.channels = 16;
  c.groups = 4;
  c.blocks = 1;
  return c;
}

TEST(FusionModel, EncoderHasDetect2dsBackboneNamesAndChecksItsInput) {
  FusionModel model(tiny_encoder(), tiny_fusion());
  detect2d::FasterRCNN detector(tiny_encoder());
  std::vector<std::string> ours, theirs;
  for (const auto& p : model->named_parameters())
    if (p.key().rfind("backbone.", 0) == 0) ours.push_back(p.key());
  for (const auto& p : detector->named_parameters())
    if (p.key().rfind("backbone.", 0) == 0) theirs.push_back(p.key());
  EXPECT_FALSE(ours.empty());
  EXPECT_EQ(ours, theirs);

  auto bad = tiny_fusion();
  bad.encoder_stride = 16;
  const auto message = error_of([&] { FusionModel bad_stride(tiny_encoder(), bad); });
  EXPECT_NE(message.find("expected one of the encoder's FPN strides (4, 8)"), std::string::npos) << message;

  const auto rig = small_ring(64, 3.125);
  const auto wrong_size = error_of([&] { model->forward(torch::zeros({10, 1, 32, 32}), rig.cameras()); });
  EXPECT_NE(wrong_size.find("camera is 64 x 64 px but its image is 32 x 32"), std::string::npos) << wrong_size;
  EXPECT_THROW(model->forward(torch::zeros({9, 1, 64, 64}), rig.cameras()), core::InputError);
  auto huge = tiny_fusion();
  huge.max_memory_mb = 1;
  EXPECT_THROW(FusionModel(tiny_encoder(), huge)->forward(torch::zeros({10, 1, 64, 64}), rig.cameras()),
               core::ConfigError);
}

// Ten views of balls: each pixel holds 1 - exp(-mu chord) of its ray through every ball, on a faint ramp.
torch::Tensor render_balls(const core::Rig& rig, const std::vector<core::BoxRecord>& balls) {
  const int w = rig[0].width(), h = rig[0].height();
  auto images = torch::zeros({int64_t(rig.size()), 1, h, w});
  auto a = images.accessor<float, 4>();
  for (std::size_t v = 0; v < rig.size(); ++v)
    for (int r = 0; r < h; ++r)
      for (int col = 0; col < w; ++col) {
        const auto ray = rig[v].unproject(Eigen::Vector2d(col + 0.5, r + 0.5));
        double line = 0.002 * (r + col);
        for (const auto& ball : balls) {
          const double radius = 0.5 * ball.box.size.x();
          const Eigen::Vector3d d = ball.box.center - ray.origin;
          const double along = d.dot(ray.direction), miss2 = d.squaredNorm() - along * along;
          if (miss2 < radius * radius) line += 0.05 * 2 * std::sqrt(radius * radius - miss2);
        }
        a[v][0][r][col] = float(1 - std::exp(-line));
      }
  return images;
}

// ---- the fixed encoder (encoder.type log_bank) ----

// A disk of radius `radius_px` centred on the image, value 1 inside (a nodule's line integral, flat-topped).
torch::Tensor disk_image(int size, double radius_px) {
  const auto x = torch::arange(size, torch::kFloat32) + 0.5 - 0.5 * size;
  const auto r2 = x.view({-1, 1}).square() + x.view({1, -1}).square();
  return (r2 <= radius_px * radius_px).to(torch::kFloat32).view({1, 1, size, size});
}

double response_at_centre(const torch::Tensor& image, const torch::Tensor& kernel) {
  namespace F = torch::nn::functional;
  const auto out = F::conv2d(image, kernel.view({1, 1, kernel.size(0), kernel.size(1)}),
                             F::Conv2dFuncOptions().padding(kernel.size(0) / 2));
  return out[0][0][image.size(2) / 2][image.size(3) / 2].item<double>();
}

TEST(FusionFilterBank, LogKernelIsZeroSumPositiveOnBlobsAndSelectsTheirScale) {
  // Catches a missing sigma^2 normalisation (the largest sigma would always win), a sign error (bright nodules
  // would be minima) and a DC term (a flat lung field would respond).
  for (double sigma : {0.7, 1.5, 3.4}) EXPECT_NEAR(log_kernel(sigma).sum().item<double>(), 0.0, 1e-6) << sigma;
  const std::vector<double> sigmas = {1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0};
  for (double radius : {3.0, 6.0}) {
    const auto image = disk_image(96, radius);
    double best = -1e9, best_sigma = 0;
    for (double s : sigmas) {
      const double r = response_at_centre(image, log_kernel(s));
      // Inside a flat disk a much smaller kernel sees no curvature (0); it never sees a dip.
      EXPECT_GT(r, -1e-6) << "radius " << radius << ", sigma " << s;
      if (r > best) best = r, best_sigma = s;
    }
    EXPECT_GT(best, 0.1) << "radius " << radius;
    // Lindeberg: a disk of radius R peaks at sigma = R / sqrt 2 (2.1 and 4.2 px), within the sampled scales.
    EXPECT_NEAR(best_sigma, radius / std::sqrt(2.0), 0.6) << "radius " << radius;
  }
}

TEST(FusionFilterBank, ScalesFollowEachViewsMagnificationAndMapsAreNormalised) {
  // Catches sigmas in detector pixels without the magnification (1.5 x at the isocentre of this rig) and views
  // left on their own scale before they are averaged.
  const auto rig = small_ring(64, 3.125);
  const Eigen::Vector3d centre(0, 0, 0);
  const auto sigmas = bank_sigmas_px(rig.cameras(), {10.0}, centre);
  ASSERT_EQ(sigmas.size(), rig.size());
  for (std::size_t v = 0; v < rig.size(); ++v) {
    const double expected = 10.0 / (2 * std::sqrt(2.0)) * rig[v].K()(0, 0) / rig[v].depth(centre);
    EXPECT_NEAR(sigmas[v][0], expected, 1e-9);
  }
  auto config = tiny_fusion();
  config.encoder_type = "log_bank";
  config.bank_diameters_mm = {8, 16};
  const std::vector<core::BoxRecord> balls = {truth_at({0, 0, 0}, 14)};
  const auto images = render_balls(rig, balls);
  const auto maps = filter_bank(images * 3.0, rig.cameras(), config);
  ASSERT_EQ(maps.sizes(), (std::vector<int64_t>{10, 3, 64, 64}));
  const auto again = filter_bank(images, rig.cameras(), config);
  EXPECT_TRUE(torch::allclose(maps, again, 1e-4, 1e-4)) << "a brighter exposure must give the same maps";
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(maps[0][c].std().item<double>(), 1.0, 1e-3) << "channel " << c;
  // The ball projects to the image centre in every view: the LoG channels peak there.
  for (std::size_t v = 0; v < rig.size(); ++v) {
    const auto channel = maps[v][1];
    const auto arg = channel.argmax().item<int64_t>();
    const auto uv = rig[v].project(Eigen::Vector3d(0, 0, 0));
    EXPECT_NEAR(double(arg % 64) + 0.5, uv.x(), 2.0) << "view " << v;
    EXPECT_NEAR(double(arg / 64) + 0.5, uv.y(), 2.0) << "view " << v;
  }
}

TEST(FusionFilterBank, ModelHasOnlyThe3dNetworkAndCachesLiftedFeaturesInTraining) {
  // Catches a fixed encoder that still registers (and saves, and trains) a backbone, a cache that serves another
  // case's features, and a cache that also grows at inference (predict over many cases would run out of memory).
  auto config = tiny_fusion();
  config.encoder_type = "log_bank";
  config.bank_diameters_mm = {8, 16};
  config.bank_intensity = false;
  EXPECT_EQ(config.input_channels(), 2 * 2 + 1);
  FusionModel model(tiny_encoder(), config);
  for (const auto& p : model->named_parameters()) EXPECT_NE(p.key().rfind("backbone.", 0), 0u) << p.key();
  EXPECT_FALSE(model->backbone);
  const auto rig = small_ring(64, 3.125);
  const auto one = render_balls(rig, {truth_at({0, 0, 0}, 14)});
  const auto other = render_balls(rig, {truth_at({10, -8, 4}, 18)});
  model->train();
  const auto first = model->forward(one, rig.cameras());
  model->forward(one, rig.cameras());
  EXPECT_EQ(model->cached_lifted_cases(), 1u);
  const auto second = model->forward(other, rig.cameras());
  EXPECT_EQ(model->cached_lifted_cases(), 2u);
  EXPECT_GT(model->cached_lifted_mb(), 0.0);
  EXPECT_FALSE(torch::allclose(first.heatmap, second.heatmap));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto third = render_balls(rig, {truth_at({-12, 6, -6}, 10)});
  model->forward(third, rig.cameras());
  EXPECT_EQ(model->cached_lifted_cases(), 2u);
  // Gradients reach the 3D network from a cached case.
  model->train();
  torch::AutoGradMode grad(true);
  const auto out = model->forward(one, rig.cameras());
  model->losses(out, {truth_at({0, 0, 0}, 14)}).at("loss").backward();
  bool any = false;
  for (const auto& p : model->parameters())
    any = any || (p.grad().defined() && p.grad().abs().sum().item<double>() > 0);
  EXPECT_TRUE(any);
}

TEST(FusionFilterBank, ConfigRefusesOptionsThatDoNotApply) {
  // Catches encoder.stride / encoder.channels silently ignored with the filter bank, and unknown encoder types.
  const auto stride = yaml("fusion: {encoder: {type: log_bank, stride: 4}}\n");
  try {
    FusionConfig::from_config(stride.section("fusion"));
    FAIL() << "expected a ConfigError";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("fusion.encoder.stride does not apply to encoder.type log_bank"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(FusionConfig::from_config(yaml("fusion: {encoder: {type: vit}}\n").section("fusion")),
               core::ConfigError);
  EXPECT_THROW(
      FusionConfig::from_config(yaml("fusion: {encoder: {type: log_bank, diameters_mm: []}}\n").section("fusion")),
      core::ConfigError);
  const auto bank = FusionConfig::from_config(
      yaml("fusion: {encoder: {type: log_bank, diameters_mm: [6, 12], intensity: true}}\n").section("fusion"));
  EXPECT_EQ(bank.lifted_channels(), 3);
  EXPECT_EQ(bank.lifted_stride(), 1);
  // The memory estimate counts the bank's full-resolution maps: V x 3 x 256 x 256 floats.
  const auto e = estimate_memory(bank, 10, 256, 256, false);
  EXPECT_NEAR(e.feature_mb, 10.0 * 3 * 256 * 256 * 4 / (1024.0 * 1024.0), 1e-9);
}

TEST(FusionConfig, ShippedConfigsFitTheirMachines) {
  // Catches a training estimate that charges the 3D network for the whole grid while it trains on crops (the
  // GPU-scale config would be refused by its own budget), and configs that grew past the machines they are for:
  // cpu_small.yaml's fusion on the 24 GiB development machine, fusion_r50.yaml on an 80 GB H100.
  auto crops = FusionConfig::from_config(yaml("fusion: {voxel_mm: 5, crop: {voxels: 24}}\n").section("fusion"));
  auto whole = crops;
  whole.crop_voxels = 0;
  const auto with_crops = estimate_memory(crops, 10, 256, 256, true);
  const auto without = estimate_memory(whole, 10, 256, 256, true);
  EXPECT_NEAR(with_crops.network_mb * 80.0 * 80 * 80, without.network_mb * 24.0 * 24 * 24, 1e-6 * without.network_mb);
  EXPECT_EQ(with_crops.lifted_mb, without.lifted_mb);  // the lifted grid is whole either way
  for (const auto& [file, gpu_mb, px] : {std::tuple<const char*, double, int>{"cpu_small.yaml", 24.0 * 1024, 256},
                                         {"fusion_r50.yaml", 80.0 * 1024, 1024}}) {
    const auto config = core::Config::load(xraylift::testing::source_dir() / "configs/detect3d" / file);
    const auto fusion = FusionConfig::from_config(config.section("detect3d").section("fusion"),
                                                  SceneRange::from_config(config.section("detect3d.scene")));
    for (bool training : {false, true}) {
      const auto estimate = estimate_memory(fusion, 10, px, px, training);
      EXPECT_LT(estimate.total_mb, gpu_mb) << file << (training ? " training" : " inference");
      EXPECT_LE(estimate.total_mb, fusion.max_memory_mb) << file << (training ? " training" : " inference");
    }
  }
}

// The fixed filter bank on 8^3 crops: the training configuration of the crop tests (a share of the crops on a truth).
FusionConfig crop_training_fusion(double positive_fraction) {
  auto config = tiny_fusion();
  config.encoder_type = "log_bank";
  config.bank_diameters_mm = {10};
  config.crop_voxels = 8;
  config.crop_positive_fraction = positive_fraction;
  return config;
}

TEST(FusionModel, TrainingCropsAreCubesOfTheGridAroundTruths) {
  // Catches a crop whose geometry is not the grid's (targets shifted against the features: the model would learn
  // offsets of whole voxels), crops that leave the grid, and positive crops that miss their truth.
  auto config = crop_training_fusion(1.0);
  FusionModel model(tiny_encoder(), config);
  const auto full = model->grid();
  const auto rig = small_ring(64, 3.125);
  const std::vector<core::BoxRecord> balls = {truth_at({20, -15, 9}, 12)};
  const auto images = render_balls(rig, balls);
  torch::manual_seed(3);
  model->train();
  for (int i = 0; i < 12; ++i) {
    const auto out = model->forward_crop(images, rig.cameras(), balls);
    ASSERT_EQ(out.grid.dims, Eigen::Vector3i(8, 8, 8));
    ASSERT_EQ(out.heatmap.sizes(), (std::vector<int64_t>{1, 1, 8, 8, 8}));
    const Eigen::Vector3d start = (out.grid.origin - full.origin) / config.voxel_mm;
    for (int a = 0; a < 3; ++a) {
      EXPECT_NEAR(start[a], std::round(start[a]), 1e-9) << "a crop starts on a voxel of the grid";
      EXPECT_GE(start[a], 0);
      EXPECT_LE(start[a] + 8, full.dims[a]);
    }
    const auto targets = make_targets(out.grid, balls, config, torch::kCPU);
    EXPECT_EQ(targets.centers.size(0), 1) << "the truth lies inside its positive crop";
  }
  config.crop_voxels = 0;
  FusionModel whole(tiny_encoder(), config);
  EXPECT_EQ(whole->forward_crop(images, rig.cameras(), balls).grid.dims, full.dims);
}

TEST(FusionModel, BatchedCropsEqualOnePassPerCase) {
  // Catches a batched training pass that is not the per-case pass it replaces: a layer that mixes the samples of a
  // batch (a batch norm), outputs split back in the wrong order or with another case's crop grid, or crops drawn in
  // another order than one forward_crop after the other (a seeded run would train on other cubes).
  auto config = crop_training_fusion(0.5);
  FusionModel model(tiny_encoder(), config);
  model->train();
  const auto rig = small_ring(64, 3.125);
  const std::vector<std::vector<core::BoxRecord>> truths = {
      {truth_at({20, -15, 9}, 12)}, {truth_at({-12, 8, -6}, 16)}, {truth_at({4, 18, 12}, 10)}};
  std::vector<FusionModelImpl::CropCase> cases;
  for (const auto& t : truths) cases.push_back({render_balls(rig, t), rig.cameras(), t});
  torch::manual_seed(5);
  std::vector<FusionOutput> one_by_one;
  for (const auto& c : cases) one_by_one.push_back(model->forward_crop(c.images, c.cameras, c.truths));
  torch::manual_seed(5);
  const auto batched = model->forward_crops(cases);
  ASSERT_EQ(batched.size(), cases.size());
  bool grids_differ = false;
  for (std::size_t b = 0; b < cases.size(); ++b) {
    EXPECT_TRUE(batched[b].grid.origin.isApprox(one_by_one[b].grid.origin)) << "case " << b << ": its own crop";
    EXPECT_EQ(batched[b].grid.dims, one_by_one[b].grid.dims);
    grids_differ |= !batched[b].grid.origin.isApprox(batched[0].grid.origin);
    ASSERT_EQ(batched[b].heatmap.sizes(), one_by_one[b].heatmap.sizes());
    EXPECT_TRUE(torch::allclose(batched[b].heatmap, one_by_one[b].heatmap, 1e-4, 1e-5)) << "case " << b;
    EXPECT_TRUE(torch::allclose(batched[b].offset, one_by_one[b].offset, 1e-4, 1e-5)) << "case " << b;
    EXPECT_TRUE(torch::allclose(batched[b].log_size, one_by_one[b].log_size, 1e-4, 1e-5)) << "case " << b;
    const auto a = model->losses(batched[b], cases[b].truths).at("loss").item<double>();
    const auto e = model->losses(one_by_one[b], cases[b].truths).at("loss").item<double>();
    EXPECT_NEAR(a, e, 1e-4 * std::max(1.0, std::abs(e))) << "case " << b;
  }
  EXPECT_TRUE(grids_differ) << "the test needs crops at different places to see a mixed-up split";
}

TEST(FusionModel, LoneCropOnTheCpuHasItsOwnOutputsAndGradients) {
  // forward_crops runs a lone CPU crop beside a copy of itself (torch's faster batched path). Catches a copy that
  // leaks into the result: the two-sample output returned, the copy's loss counted, or gradients doubled by the copy.
  auto config = crop_training_fusion(1.0);
  FusionModel model(tiny_encoder(), config);
  model->train();
  const auto rig = small_ring(64, 3.125);
  const std::vector<core::BoxRecord> truths = {truth_at({20, -15, 9}, 12)};
  const auto images = render_balls(rig, truths);
  auto loss_and_grads = [&](bool lone_batch) {
    model->zero_grad();
    torch::manual_seed(9);
    const auto out = lone_batch ? model->forward_crops({{images, rig.cameras(), truths}}).at(0)
                                : model->forward_crop(images, rig.cameras(), truths);
    EXPECT_EQ(out.heatmap.size(0), 1);
    auto loss = model->losses(out, truths).at("loss");
    loss.backward();
    std::vector<torch::Tensor> grads;
    for (const auto& p : model->parameters())
      if (p.grad().defined()) grads.push_back(p.grad().clone());
    return std::make_pair(loss.item<double>(), grads);
  };
  const auto [single_loss, single_grads] = loss_and_grads(false);
  const auto [lone_loss, lone_grads] = loss_and_grads(true);
  EXPECT_NEAR(lone_loss, single_loss, 1e-4 * std::max(1.0, std::abs(single_loss)));
  ASSERT_EQ(lone_grads.size(), single_grads.size());
  ASSERT_FALSE(single_grads.empty());
  for (std::size_t i = 0; i < single_grads.size(); ++i)
    EXPECT_TRUE(torch::allclose(lone_grads[i], single_grads[i], 1e-3, 1e-6)) << "parameter " << i;
}

TEST(FusionModel, OverfitsOneSyntheticCaseAndDecodesItsBoxes) {
  // One intra-op thread: about 6 s of CPU; on a shared, loaded machine a thread pool spinning for cores it does not
  // get made the same run take minutes.
  torch::set_num_threads(1);
  torch::manual_seed(0);
  const auto rig = small_ring(64, 3.125);  // 100 mm field at the isocentre, 1.6 mm pixels
  const std::vector<core::BoxRecord> balls = {truth_at({-15, 10, 5}, 20), truth_at({17, -13, -14}, 14)};
  const auto images = render_balls(rig, balls);
  FusionModel model(tiny_encoder(), tiny_fusion());
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));
  model->train();
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    optimizer.zero_grad();
    const auto out = model->forward(images, rig.cameras());
    const auto losses = model->losses(out, balls);
    losses.at("loss").backward();
    optimizer.step();
    (step == 0 ? first : last) = losses.at("loss").item<double>();
  }
  EXPECT_EQ(model->cached_camera_sets(), 1u);  // the same rig every step
  EXPECT_LT(last, 0.2 * first);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto boxes = model->decode(model->forward(images, rig.cameras()));
  ASSERT_GE(boxes.size(), 2u);
  for (const auto& ball : balls) {
    const auto hit = std::find_if(boxes.begin(), boxes.begin() + 2, [&](const core::BoxRecord& b) {
      return (b.box.center - ball.box.center).norm() < 3.0;  // half a voxel
    });
    ASSERT_NE(hit, boxes.begin() + 2) << "no box near " << ball.box.center.transpose();
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(hit->box.size[a], ball.box.size[a], 0.25 * ball.box.size[a]);
  }
  if (boxes.size() > 2) {
    EXPECT_LT(boxes[2].score, boxes[1].score);
  }

  // A jittered rig is another camera set: projected once more, then cached too.
  core::RingSpec jittered;
  jittered.detector.width = jittered.detector.height = 64;
  jittered.detector.pixel_size_mm = 3.125;
  jittered.start_angle_deg = 1.0;
  model->forward(images, core::Rig::ring(jittered).cameras());
  EXPECT_EQ(model->cached_camera_sets(), 2u);
}

// The same weights on CUDA and on the CPU give the same outputs, losses and boxes (skipped without a GPU).
TEST(FusionModel, CudaMatchesCpu) {
  XL_REQUIRE_CUDA();
  torch::manual_seed(1);
  const auto rig = small_ring(64, 3.125);
  const std::vector<core::BoxRecord> balls = {truth_at({-15, 10, 5}, 20), truth_at({17, -13, -14}, 14, true)};
  const auto images = render_balls(rig, balls);
  auto config = tiny_fusion();
  config.scales = 2;
  config.aggregation = "mean_quantile";
  config.score_threshold = 0;
  FusionModel cpu(tiny_encoder(), config);
  FusionModel cuda(tiny_encoder(), config);
  {
    torch::NoGradGuard no_grad;
    const auto from = cpu->named_parameters();
    for (auto& p : cuda->named_parameters()) p.value().copy_(from[p.key()]);
  }
  cuda->to(torch::kCUDA);
  cpu->eval();
  cuda->eval();
  const auto a = cpu->forward(images, rig.cameras());
  const auto b = cuda->forward(images.to(torch::kCUDA), rig.cameras());
  const std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs = {
      {a.heatmap, b.heatmap}, {a.offset, b.offset}, {a.log_size, b.log_size}};
  for (const auto& [x, y] : pairs)
    EXPECT_TRUE(torch::allclose(x, y.cpu(), 1e-3, 1e-3)) << (x - y.cpu()).abs().max().item<double>();
  const auto la = cpu->losses(a, balls), lb = cuda->losses(b, balls);
  for (const auto& [name, value] : la) EXPECT_NEAR(value.item<double>(), lb.at(name).item<double>(), 1e-3) << name;
  lb.at("loss").backward();  // the whole graph runs backward on the device
  const auto da = cpu->decode(a), db = cuda->decode(b);
  // Untrained scores nearly tie, so the order may differ between devices; the scores may not.
  ASSERT_EQ(da.size(), db.size());
  for (std::size_t i = 0; i < da.size(); ++i) EXPECT_NEAR(da[i].score, db[i].score, 1e-4) << i;
}

}  // namespace
}  // namespace xraylift::detect3d::fusion
