// data benchmarks: DICOM load of the LIDC sample, phantom generation, NRRD cache read.
#include <benchmark/benchmark.h>

#include <ctime>

#include "xraylift/data/case.hpp"
#include "xraylift/data/dicom.hpp"
#include "xraylift/data/nrrd.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;

static void BM_DicomLoadLidcSample(benchmark::State& state) {
  const auto dir = xraylift::testing::lidc_sample_dir();
  if (!dir) {
    state.SkipWithError("../shared/data/LIDC-IDRI-0001 is absent");
    return;
  }
  data::DicomReadOptions opt;
  opt.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto s = data::read_dicom_series(*dir, opt);
    benchmark::DoNotOptimize(s.hu.data());
  }
}
BENCHMARK(BM_DicomLoadLidcSample)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_Phantom(benchmark::State& state) {
  data::PhantomSpec spec;
  spec.dims = {512, 512, static_cast<int>(state.range(0))};
  spec.spacing_mm = {0.7, 0.7, 1.25};
  spec.nodules = 6;
  for (auto _ : state) {
    auto p = data::generate_phantom(spec);
    benchmark::DoNotOptimize(p.ct.hu.data());
  }
}
BENCHMARK(BM_Phantom)->Arg(300)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// The `chest` model at configs/data/phantom_chest.yaml's grid (issue 20's target: <= 5 s per 512 x 512 x 256 phantom
// on 2 cores), by version (arg: docs/data.md "Anatomy models"), with contrast and dense veins so the slowest draw is
// timed. "cpu_s" counts every thread's CPU time (std::clock), wall time is the benchmark's.
static void BM_ChestPhantom(benchmark::State& state) {
  data::PhantomSpec spec;
  spec.anatomy = data::PhantomAnatomy::kChest;
  spec.chest_version = static_cast<int>(state.range(0));
  spec.dims = {512, 512, 256};
  spec.spacing_mm = {0.7, 0.7, 1.25};
  spec.nodules = 6;
  spec.noise_hu = 40;
  spec.seed = 91102;
  spec.contrast_probability = 1;
  spec.dense_vein_probability = 1;
  double cpu_s = 0;
  for (auto _ : state) {
    const std::clock_t t0 = std::clock();
    auto p = data::generate_phantom(spec);
    cpu_s += double(std::clock() - t0) / CLOCKS_PER_SEC;
    benchmark::DoNotOptimize(p.ct.hu.data());
  }
  state.counters["cpu_s"] = benchmark::Counter(cpu_s / double(state.iterations()));
}
BENCHMARK(BM_ChestPhantom)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

// The case cache: load volume.nrrd (gzip) + JSON of the imported sample, versus decoding the DICOM again.
static void BM_LoadCachedCase(benchmark::State& state) {
  const auto dir = xraylift::testing::lidc_sample_dir();
  if (!dir) {
    state.SkipWithError("../shared/data/LIDC-IDRI-0001 is absent");
    return;
  }
  const auto folder = xraylift::testing::scratch_dir("bench_case") / "LIDC-IDRI-0001";
  const auto series = data::read_dicom_series(*dir);
  data::Case c;
  c.id = "LIDC-IDRI-0001";
  c.hu = series.hu;
  c.meta = {{"source", "lidc"}};
  data::save_case(folder, c);
  for (auto _ : state) {
    auto loaded = data::load_case(folder);
    benchmark::DoNotOptimize(loaded.hu.data());
  }
}
BENCHMARK(BM_LoadCachedCase)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
