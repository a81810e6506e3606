// viz timings: the AR frame (detect + smooth + render) at 720p with a ~20k-triangle scene, its parts, and the
// lung-model pipeline stages on the synthetic chest.
#include <benchmark/benchmark.h>

#include <opencv2/calib3d.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>

#include "xraylift/data/dicom.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/testing/testing.hpp"
#include "xraylift/viz/ar.hpp"
#include "xraylift/viz/ar_viewer.hpp"
#include "xraylift/viz/lung_model.hpp"
#include "xraylift/viz/surface.hpp"
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

// Decimation of the real lung meshes, before (own QEM) and after (meshoptimizer): the undecimated right and left
// lung surfaces of a case (build_lung_model without a triangle limit) decimated to the model's default budget
// (20000 triangles shared by volume, as build_lung_model does). Quality counters: symmetric Hausdorff and mean
// surface distance to the undecimated mesh (viz::surface_distance), triangles, closed manifold (1/0).
namespace {

struct LungSurfaces {
  std::string name;
  std::vector<viz::Mesh> meshes;
  std::vector<std::size_t> targets;
};

LungSurfaces undecimated(const std::string& name, const core::VolumeI16& hu) {
  viz::LungModelOptions o;
  o.target_triangles = std::size_t(1) << 40;  // no decimation
  const viz::LungModel model = viz::build_lung_model(viz::segment_lungs(hu), o);
  LungSurfaces s{name, {}, {}};
  const double total = model.total_ml();
  for (const auto& l : model.lungs) {
    s.meshes.push_back(l.mesh);
    s.targets.push_back(std::size_t(std::max(100.0, 20000.0 * l.mask_ml / total)));
  }
  return s;
}

const LungSurfaces* surfaces(const std::string& which) {
  static std::map<std::string, std::optional<LungSurfaces>> cache;
  auto it = cache.find(which);
  if (it != cache.end()) return it->second ? &*it->second : nullptr;
  std::optional<LungSurfaces> s;
  if (which == "demo") {  // the demo's phantom (tools/commands/demo.cpp: seed 1, 4 nodules of 8-20 mm)
    data::PhantomSpec spec;
    spec.seed = 1;
    spec.id = "demo-phantom";
    spec.nodules = 4;
    spec.nodule_min_diameter_mm = 8;
    spec.nodule_max_diameter_mm = 20;
    s = undecimated(which, data::generate_phantom(spec).ct.hu);
  } else {
    if (const auto lidc = xraylift::testing::lidc_sample_dir())
      s = undecimated(which, data::read_dicom_series(*lidc).hu);
  }
  return &*(cache[which] = std::move(s));
}

void decimate_lungs(benchmark::State& state, const std::string& which,
                    const std::function<void(viz::Mesh&, std::size_t)>& decimator) {
  const LungSurfaces* s = surfaces(which);
  if (!s) {
    state.SkipWithError("LIDC-IDRI-0001 not found (../shared/data)");
    return;
  }
  std::vector<viz::Mesh> out;
  for (auto _ : state) {
    out = s->meshes;
    for (std::size_t i = 0; i < out.size(); ++i) decimator(out[i], s->targets[i]);
    benchmark::DoNotOptimize(out.data());
  }
  double in_tris = 0, out_tris = 0, hausdorff = 0, mean = 0, closed = 1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    in_tris += double(s->meshes[i].triangle_count());
    out_tris += double(out[i].triangle_count());
    const viz::SurfaceDistance d = viz::surface_distance(out[i], s->meshes[i]);
    hausdorff = std::max(hausdorff, d.hausdorff_mm);
    mean += d.mean_mm / double(out.size());
    closed = closed && viz::is_watertight(out[i]);
  }
  state.counters["input_triangles"] = in_tris;
  state.counters["triangles"] = out_tris;
  state.counters["hausdorff_mm"] = hausdorff;
  state.counters["mean_dist_mm"] = mean;
  state.counters["closed"] = closed;
}

}  // namespace

static void BM_DecimateLungsDemoQem(benchmark::State& state) { decimate_lungs(state, "demo", viz::decimate_qem); }
static void BM_DecimateLungsDemoMeshopt(benchmark::State& state) { decimate_lungs(state, "demo", viz::decimate); }
static void BM_DecimateLungsLidc0001Qem(benchmark::State& state) { decimate_lungs(state, "lidc", viz::decimate_qem); }
static void BM_DecimateLungsLidc0001Meshopt(benchmark::State& state) { decimate_lungs(state, "lidc", viz::decimate); }
BENCHMARK(BM_DecimateLungsDemoQem)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_DecimateLungsDemoMeshopt)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_DecimateLungsLidc0001Qem)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_DecimateLungsLidc0001Meshopt)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

BENCHMARK_MAIN();
