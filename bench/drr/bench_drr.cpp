// CPU DRR benchmarks: 10 views of 256 x 256 of the LIDC sample (and a synthetic volume of the same shape).
// Counters: rays/s; "ms per 10-view set" is the reported time per iteration (--benchmark_time_unit=ms).
#include <benchmark/benchmark.h>

#include "bench_common.hpp"
#include "xraylift/drr/render.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {

void run(benchmark::State& state, const core::VolumeI16* volume, Integrator integrator, double step, int threads) {
  if (!volume) {
    state.SkipWithError("../shared/data/LIDC-IDRI-0001 is absent");
    return;
  }
  const core::Rig rig = bench::ring(static_cast<int>(state.range(0)));
  state.SetLabel(std::to_string(threads) + " thread(s)");
  RenderOptions o;
  o.integrator = integrator;
  o.step_voxels = step;
  o.threads = threads;
  long long rays = 0;
  for (auto _ : state) {
    const DrrImages img = render(*volume, rig, o);  // includes the HU -> mu conversion, as a caller sees it
    benchmark::DoNotOptimize(img.line_integral.data());
    rays += static_cast<long long>(img.views) * img.height * img.width;
  }
  state.counters["rays_per_s"] = benchmark::Counter(static_cast<double>(rays), benchmark::Counter::kIsRate);
}

// Arguments: detector pixels, worker threads. On a shared machine the 1-thread CPU time is the robust figure
// (2 dedicated cores give about half of it as wall time); the 2-thread real time is what a user sees.
void BM_Sample_Siddon(benchmark::State& s) { run(s, bench::lidc_sample(), Integrator::kSiddon, 0.5, int(s.range(1))); }
void BM_Sample_Trilinear_step0_5(benchmark::State& s) {
  run(s, bench::lidc_sample(), Integrator::kTrilinear, 0.5, int(s.range(1)));
}
void BM_Sample_Trilinear_step1(benchmark::State& s) {
  run(s, bench::lidc_sample(), Integrator::kTrilinear, 1.0, int(s.range(1)));
}
void BM_Synthetic_Siddon(benchmark::State& s) {
  run(s, &bench::synthetic_chest(), Integrator::kSiddon, 0.5, int(s.range(1)));
}
void BM_Synthetic_Trilinear_step0_5(benchmark::State& s) {
  run(s, &bench::synthetic_chest(), Integrator::kTrilinear, 0.5, int(s.range(1)));
}

}  // namespace

#define XL_DRR_BENCH(fn) \
  BENCHMARK(fn)->Args({256, 1})->Args({256, 2})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0)
XL_DRR_BENCH(BM_Sample_Siddon);
XL_DRR_BENCH(BM_Sample_Trilinear_step0_5);
XL_DRR_BENCH(BM_Sample_Trilinear_step1);
XL_DRR_BENCH(BM_Synthetic_Siddon);
XL_DRR_BENCH(BM_Synthetic_Trilinear_step0_5);

BENCHMARK_MAIN();
