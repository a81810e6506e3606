// viz timings: the AR frame (detect + smooth + render) at 720p with a ~20k-triangle scene, its parts, and the
// lung-model pipeline stages on the synthetic chest.
#include <benchmark/benchmark.h>

#include <opencv2/calib3d.hpp>

#include "xraylift/viz/ar.hpp"
#include "xraylift/viz/ar_viewer.hpp"
#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/synthetic_chest.hpp"

using namespace xraylift;

namespace {

viz::Scene lungs_scene_20k() {
  viz::Scene s;
  for (double x : {-60.0, 60.0}) {
    viz::SceneNode n;
    n.name = x < 0 ? "right_lung" : "left_lung";
    n.mesh = viz::make_sphere({x, 0, 0}, 90, 50, 100);
    n.rgba = {0.93f, 0.62f, 0.6f, 0.4f};
    n.translucent = true;
    s.nodes.push_back(n);
  }
  core::BoxRecord b;
  b.box = {{-50, 0, 10}, {12, 12, 12}};
  viz::add_nodules(s, {b});
  return s;
}

const viz::CameraCalibration& camera() {
  static const viz::CameraCalibration c = viz::CameraCalibration::guess({1280, 720});
  return c;
}

cv::Mat marker_frame() {
  viz::MarkerSpec spec;
  auto src = viz::demo_frame_source(spec, camera(), 3);
  cv::Mat f;
  src->next(f);
  src->next(f);
  return f;
}

}  // namespace

static void BM_ArFrame720p20kTriangles(benchmark::State& state) {
  const viz::Scene scene = lungs_scene_20k();
  viz::MarkerSpec spec;
  viz::ArViewOptions o;
  o.hud = false;
  viz::ArViewer viewer(scene, spec, camera(), o);
  const cv::Mat frame = marker_frame();
  for (auto _ : state) benchmark::DoNotOptimize(viewer.process(frame));
  state.counters["fps"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["triangles"] = double(scene.triangle_count());
}
BENCHMARK(BM_ArFrame720p20kTriangles)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_MarkerDetect720p(benchmark::State& state) {
  viz::MarkerSpec spec;
  viz::MarkerTracker tracker(spec, camera());
  const cv::Mat frame = marker_frame();
  for (auto _ : state) benchmark::DoNotOptimize(tracker.detect(frame));
}
BENCHMARK(BM_MarkerDetect720p)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_Render720p20kTriangles(benchmark::State& state) {
  const viz::Scene scene = lungs_scene_20k();
  viz::SceneRenderer r(scene);
  viz::MarkerSpec spec;
  const cv::Mat frame = marker_frame();
  const viz::MarkerPose pose = viz::MarkerTracker(spec, camera()).detect(frame);
  const viz::ViewTransform v = viz::marker_view(scene, spec, {}, pose, camera());
  for (auto _ : state) {
    cv::Mat out = frame.clone();
    r.render(out, v, {});
    benchmark::DoNotOptimize(out.data);
  }
}
BENCHMARK(BM_Render720p20kTriangles)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_LungModelSyntheticChest(benchmark::State& state) {
  const auto chest = viz::make_synthetic_chest();
  for (auto _ : state) {
    const auto seg = viz::segment_lungs(chest.hu);
    benchmark::DoNotOptimize(viz::build_lung_model(seg));
  }
}
BENCHMARK(BM_LungModelSyntheticChest)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

static void BM_Decimate200kTo20k(benchmark::State& state) {
  const viz::Mesh m = viz::make_sphere({0, 0, 0}, 100, 250, 400);
  for (auto _ : state) {
    viz::Mesh c = m;
    viz::decimate(c, 20000);
    benchmark::DoNotOptimize(c.triangles.data());
  }
  state.counters["input_triangles"] = double(m.triangle_count());
}
BENCHMARK(BM_Decimate200kTo20k)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

BENCHMARK_MAIN();
