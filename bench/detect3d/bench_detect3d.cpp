// detect3d speed: triangulate on one case (10 ring views, 5 nodules with slightly noisy boxes + 5 false positives
// per view, ~10 detections per view), and the Hungarian matcher at MV2D sizes (queries x ground-truth boxes).
#include <benchmark/benchmark.h>

#include <random>

#include "xraylift/core/projection.hpp"
#include "xraylift/core/rig.hpp"
#include "xraylift/detect3d/hungarian.hpp"
#include "xraylift/detect3d/triangulate.hpp"

using namespace xraylift;

namespace {

std::vector<detect3d::ViewDetections> make_case(int width, int nodules, int false_positives, unsigned seed) {
  const core::Rig base = core::Rig::ring(core::RingSpec{});
  const core::Rig rig = width == base[0].width() ? base : base.with_detector_width(width);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> x(-100, 100), y(-70, 70), z(-80, 80), d(3, 30), unit(0, 1);
  std::normal_distribution<double> noise(0.0, 0.5 * width / 1024.0);
  std::vector<core::Box3D> truths;
  for (int n = 0; n < nodules; ++n) {
    core::Box3D b;
    b.center = {x(rng), y(rng), z(rng)};
    b.size = Eigen::Vector3d::Constant(d(rng));
    truths.push_back(b);
  }
  std::vector<detect3d::ViewDetections> views;
  for (const auto& cam : rig) {
    detect3d::ViewDetections v{cam, {}, {}};
    for (const auto& t : truths) {
      const auto pb = core::project_box(cam, t);
      if (!pb.visible) continue;
      core::Box2D b = pb.box;
      b.x0 += noise(rng), b.y0 += noise(rng), b.x1 += noise(rng), b.y1 += noise(rng);
      v.boxes.push_back(b);
      v.scores.push_back(0.6 + 0.4 * unit(rng));
    }
    for (int f = 0; f < false_positives; ++f) {
      const double w = (2 + 58 * unit(rng)) * width / 1024.0, h = (2 + 58 * unit(rng)) * width / 1024.0;
      const double x0 = unit(rng) * (width - w), y0 = unit(rng) * (cam.height() - h);
      v.boxes.push_back(core::Box2D{x0, y0, x0 + w, y0 + h});
      v.scores.push_back(0.05 + 0.9 * unit(rng));
    }
    views.push_back(std::move(v));
  }
  return views;
}

void BM_Triangulate(benchmark::State& state) {
  const auto views = make_case(static_cast<int>(state.range(0)), 5, static_cast<int>(state.range(1)), 7);
  const detect3d::TriangulateOptions options;
  std::size_t boxes = 0;
  for (auto _ : state) {
    const auto preds = detect3d::triangulate(views, options);
    boxes = preds.size();
    benchmark::DoNotOptimize(preds.data());
  }
  state.counters["boxes3d"] = static_cast<double>(boxes);
  state.SetItemsProcessed(state.iterations());  // cases
}
// (detector width, false positives per view): 5 true nodules per case.
BENCHMARK(BM_Triangulate)->Args({1024, 5})->Args({256, 5})->Args({1024, 20})->Unit(benchmark::kMillisecond);

void BM_Hungarian(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0)), cols = static_cast<int>(state.range(1));
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::MatrixXd cost(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) cost(i, j) = u(rng);
  for (auto _ : state) benchmark::DoNotOptimize(detect3d::hungarian_match(cost).data());
}
// (queries, ground-truth boxes): an MV2D case has up to 10 views x 75 proposals.
BENCHMARK(BM_Hungarian)
    ->Args({100, 5})
    ->Args({750, 10})
    ->Args({750, 50})
    ->Args({200, 200})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
