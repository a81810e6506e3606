// Evaluation speed on a realistic scale: 1000 scans x 20 predictions (about 2 nodules per scan).
#include <benchmark/benchmark.h>

#include <random>

#include "xraylift/eval/coco2d.hpp"
#include "xraylift/eval/evaluate3d.hpp"

using namespace xraylift;

namespace {

std::vector<eval::EvalCase> make_cases(int n_cases, int preds_per_case) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> pos(-150, 150), diam(3, 30), unit(0, 1), jitter(-3, 3);
  std::vector<eval::EvalCase> cases;
  for (int c = 0; c < n_cases; ++c) {
    eval::EvalCase ec{"case" + std::to_string(c), {}, {}};
    for (int t = 0; t < 2; ++t) {
      core::BoxRecord r;
      r.box.center = {pos(rng), pos(rng), pos(rng)};
      r.box.size = Eigen::Vector3d::Constant(diam(rng));
      r.readers = 1 + t * 3;
      ec.truths.push_back(r);
    }
    for (int p = 0; p < preds_per_case; ++p) {
      core::BoxRecord r;
      const auto& near = ec.truths[p % 2];
      r.box.center = p < 4 ? Eigen::Vector3d(near.box.center + Eigen::Vector3d(jitter(rng), jitter(rng), jitter(rng)))
                           : Eigen::Vector3d(pos(rng), pos(rng), pos(rng));
      r.box.size = Eigen::Vector3d::Constant(diam(rng));
      r.score = unit(rng);
      ec.predictions.push_back(r);
    }
    cases.push_back(std::move(ec));
  }
  return cases;
}

void BM_Evaluate3D(benchmark::State& state) {
  const auto cases = make_cases(static_cast<int>(state.range(0)), 20);
  eval::Eval3DOptions o;
  o.bootstrap_samples = static_cast<int>(state.range(1));
  o.breakdowns = state.range(2) != 0;
  for (auto _ : state) benchmark::DoNotOptimize(eval::evaluate_3d(cases, o).overall.froc.cpm);
  state.SetItemsProcessed(state.iterations() * state.range(0) * 20);
}
// (cases, bootstrap samples, breakdowns)
BENCHMARK(BM_Evaluate3D)
    ->Args({1000, 0, 0})
    ->Args({1000, 0, 1})
    ->Args({1000, 100, 0})
    ->Args({1000, 1000, 0})
    ->Unit(benchmark::kMillisecond);

void BM_Coco2D(benchmark::State& state) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> pos(0, 900), size(8, 60), unit(0, 1), jitter(-4, 4);
  std::vector<eval::GroundTruth2D> gts;
  std::vector<eval::Detection2D> dets;
  const int images = static_cast<int>(state.range(0));
  for (int i = 0; i < images; ++i) {
    const std::string id = "img" + std::to_string(i);
    for (int t = 0; t < 2; ++t) {
      const double x = pos(rng), y = pos(rng), w = size(rng);
      gts.push_back({id, core::Box2D{x, y, x + w, y + w}, false});
      dets.push_back(
          {id, core::Box2D{x + jitter(rng), y + jitter(rng), x + w + jitter(rng), y + w + jitter(rng)}, unit(rng)});
    }
    for (int d = 0; d < 18; ++d) {
      const double x = pos(rng), y = pos(rng), w = size(rng);
      dets.push_back({id, core::Box2D{x, y, x + w, y + w}, unit(rng) * 0.7});
    }
  }
  for (auto _ : state) benchmark::DoNotOptimize(eval::evaluate_coco2d(gts, dets).ap50_95);
  state.SetItemsProcessed(state.iterations() * dets.size());
}
BENCHMARK(BM_Coco2D)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
