// On-the-fly DRR data (detect2d/on_the_fly.hpp): deterministic per seed, truth recomputed from the jittered
// cameras, the nominal sample equals the CPU renderer, both layouts, the LRU volume cache evicts under its budget,
// bad config ranges are refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "xraylift/core/error.hpp"
#include "xraylift/core/view_set.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/detect2d/on_the_fly.hpp"
#include "xraylift/drr/render.hpp"
#include "xraylift/testing/phantoms.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {

fs::path phantom_case(const std::string& name, std::uint64_t seed) {
  const auto dir = xraylift::testing::scratch_dir(name) / "case";
  data::save_case(dir, xraylift::testing::make_phantom(seed, {48, 48, 32}, {6.0, 6.0, 7.5}, 2, 16, 20, false).ct);
  return dir;
}

core::Rig small_rig() { return core::Rig::ring({}).with_detector_width(32); }

detect2d::OnTheFlyOptions options(std::vector<fs::path> cases) {
  detect2d::OnTheFlyOptions o;
  o.cases = std::move(cases);
  o.pixel_size_mm = 0.78125 * 1024 / 32;
  o.jitter.angle_deg = 3, o.jitter.sad_mm = 10, o.jitter.sdd_mm = 10, o.jitter.detector_offset_mm = 5;
  o.jitter.pose_deg = 2, o.jitter.pose_mm = 5;
  o.photons = 1e4;
  return o;
}

}  // namespace

TEST(OnTheFly, SeededSamplesWithTruthFromTheJitteredCameras) {
  const auto c = phantom_case("otf_seeded", 3);
  detect2d::OnTheFlyDataset data(options({c}), small_rig());
  ASSERT_EQ(data.size(), 1u);
  const auto a = data.get(0, 42), b = data.get(0, 42), other = data.get(0, 43), nominal = data.get(0);
  EXPECT_TRUE(torch::equal(a.at("image"), b.at("image")));
  EXPECT_TRUE(torch::equal(a.at("cameras"), b.at("cameras")));
  EXPECT_FALSE(torch::equal(a.at("image"), other.at("image")));
  EXPECT_FALSE(torch::allclose(a.at("cameras"), nominal.at("cameras")));
  EXPECT_EQ(a.at("image").sizes(), (std::vector<int64_t>{10, 32, 32}));
  EXPECT_TRUE(torch::allclose(nominal.at("cameras"), detect2d::cameras_tensor(small_rig().cameras())));
  // The 2D truth is the projection of the 3D truth through the sample's own (jittered) cameras.
  const auto cams = detect2d::cameras_from_tensor(a.at("cameras"));
  const auto truth = a.at("truth_3d");
  std::vector<core::BoxRecord> boxes(static_cast<std::size_t>(truth.size(0)));
  for (int64_t g = 0; g < truth.size(0); ++g)
    for (int i = 0; i < 3; ++i) {
      boxes[g].box.center[i] = truth[g][i].item<double>();
      boxes[g].box.size[i] = truth[g][3 + i].item<double>();
    }
  int64_t row = 0;
  for (std::size_t v = 0; v < cams.size(); ++v)
    for (const auto& g : core::ground_truth_boxes_2d(cams[v], boxes)) {
      if (!g.projection.visible || g.projection.box.width() < 1 || g.projection.box.height() < 1) continue;
      ASSERT_LT(row, a.at("boxes").size(0));
      EXPECT_EQ(a.at("box_view")[row].item<int64_t>(), static_cast<int64_t>(v));
      EXPECT_NEAR(a.at("boxes")[row][0].item<float>(), g.projection.box.x0, 1e-3);
      EXPECT_NEAR(a.at("boxes")[row][3].item<float>(), g.projection.box.y1, 1e-3);
      ++row;
    }
  EXPECT_EQ(row, a.at("boxes").size(0));
  EXPECT_GT(row, 0);
}

TEST(OnTheFly, NominalSampleEqualsTheCpuRendererAndPerViewLayout) {
  const auto c = phantom_case("otf_nominal", 4);
  auto o = options({c});
  detect2d::OnTheFlyDataset cases(o, small_rig());
  const auto s = cases.get(0);
  const auto images = drr::render(data::load_case(c).hu, small_rig(), o.render);
  const auto L = torch::from_blob(const_cast<float*>(images.line_integral.data()), {10, 32, 32}, torch::kFloat);
  EXPECT_TRUE(torch::allclose(s.at("image"), 1 - torch::exp(-L.clamp_min(0)), 1e-5, 1e-5));
  o.per_view = true;
  detect2d::OnTheFlyDataset views(o, small_rig());
  ASSERT_EQ(views.size(), 10u);
  const auto v3 = views.get(3, 7);
  EXPECT_EQ(v3.at("image").sizes(), (std::vector<int64_t>{1, 32, 32}));
  EXPECT_EQ(v3.at("boxes").size(1), 4);
  EXPECT_NE(v3.id.find("/"), std::string::npos);
  EXPECT_TRUE(torch::allclose(views.get(3).at("image"), s.at("image").slice(0, 3, 4), 1e-5, 1e-5));
}

TEST(OnTheFly, VolumeCacheEvictsTheLeastRecentlyUsedUnderItsBudget) {
  int loads = 0;
  auto load = [&loads](std::size_t i) {
    ++loads;
    auto e = std::make_shared<detect2d::VolumeCache::Entry>();
    e->hu = torch::zeros({16, 16, 16}, torch::kInt16);  // 8 KiB
    e->id = std::to_string(i);
    return std::shared_ptr<const detect2d::VolumeCache::Entry>(e);
  };
  detect2d::VolumeCache cache(2 * 8192, load);  // two volumes
  cache.get(0), cache.get(1), cache.get(0);     // 0 is now the most recent
  cache.get(2);                                 // evicts 1
  auto st = cache.stats();
  EXPECT_EQ(st.resident, 2u);
  EXPECT_EQ(st.evictions, 1);
  EXPECT_EQ(st.bytes, 2 * 8192);
  EXPECT_EQ(st.hits, 1);
  cache.get(0);
  EXPECT_EQ(loads, 3);  // 0 stayed resident
  cache.get(1);
  EXPECT_EQ(loads, 4);                    // 1 had been evicted
  detect2d::VolumeCache tiny(100, load);  // smaller than one volume: still served, alone
  EXPECT_EQ(tiny.get(5)->id, "5");
  tiny.get(6);
  EXPECT_EQ(tiny.stats().resident, 1u);
}

TEST(OnTheFly, ConfigRangesAreChecked) {
  const auto good = core::Config::from_yaml(
      "data: {on_the_fly: {cases: [a], jitter: {angle_deg: 2, pose_mm: 3}, cache_mb: 64}}\nrig: {detector: "
      "{pixel_size_mm: 1.5}}\n");
  const auto o = detect2d::OnTheFlyOptions::from_config(good.section("data"), good.section("rig"), good.section("drr"));
  EXPECT_EQ(o.cases.size(), 1u);
  EXPECT_DOUBLE_EQ(o.jitter.angle_deg, 2);
  EXPECT_DOUBLE_EQ(o.pixel_size_mm, 1.5);
  for (const char* bad :
       {"data: {on_the_fly: {cases: [a], jitter: {angle_deg: -1}}}", "data: {on_the_fly: {cases: [a], cache_mb: 0}}",
        "data: {on_the_fly: {cases: [a], photons: -5}}", "data: {on_the_fly: {}}",
        "data: {on_the_fly: {cases: [a], device: tpu}}"}) {
    const auto c = core::Config::from_yaml(bad);
    EXPECT_THROW(detect2d::OnTheFlyOptions::from_config(c.section("data"), c.section("rig"), c.section("drr")),
                 core::ConfigError)
        << bad;
  }
}
