#include <benchmark/benchmark.h>

#include "xraylift/core/projection.hpp"
#include "xraylift/core/rig.hpp"

using namespace xraylift::core;

static void BM_ProjectBoxTenViews(benchmark::State& state) {
  const Rig rig = Rig::ring(RingSpec{});
  const Box3D box{{12, -30, 45}, {9, 8, 10}};
  for (auto _ : state) {
    for (const auto& cam : rig) benchmark::DoNotOptimize(project_box(cam, box));
  }
  state.SetItemsProcessed(state.iterations() * rig.size());
}
BENCHMARK(BM_ProjectBoxTenViews);

BENCHMARK_MAIN();
