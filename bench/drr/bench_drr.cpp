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

void BM_Sample_Siddon(benchmark::State& s) { run(s, bench::lidc_sample(), Integrator::kSiddon, 0.5, 2); }
void BM_Sample_Trilinear_step0_5(benchmark::State& s) { run(s, bench::lidc_sample(), Integrator::kTrilinear, 0.5, 2); }
void BM_Sample_Trilinear_step1(benchmark::State& s) { run(s, bench::lidc_sample(), Integrator::kTrilinear, 1.0, 2); }
void BM_Synthetic_Siddon(benchmark::State& s) { run(s, &bench::synthetic_chest(), Integrator::kSiddon, 0.5, 2); }
void BM_Synthetic_Trilinear_step0_5(benchmark::State& s) {
  run(s, &bench::synthetic_chest(), Integrator::kTrilinear, 0.5, 2);
}

}  // namespace

BENCHMARK(BM_Sample_Siddon)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Sample_Trilinear_step0_5)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Sample_Trilinear_step1)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Synthetic_Siddon)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Synthetic_Trilinear_step0_5)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

BENCHMARK_MAIN();
