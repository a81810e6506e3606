// data benchmarks: DICOM load of the LIDC sample, phantom generation, NRRD cache read.
#include <benchmark/benchmark.h>

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
