// Training-data throughput (docs/BENCHMARKS.md "train"): samples/s through train::Loader of one ring-10 case per
// sample (detect3d layout, 10 views of S x S px) rendered on the fly (jittered rig + photon noise, volumes resident)
// vs read from disk (the same cases rendered once by drr::render_case), and the gradient all-reduce payload of
// the detect2d/detect3d models for the scaling estimate. Arguments: view size, loader workers, device (0 cpu,
// 1 cuda). Phantoms: 160 x 160 x 64 voxels (2.2 x 2.2 x 5 mm), 3 nodules, 4 cases.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <filesystem>

#include "xraylift/core/rig.hpp"
#include "xraylift/data/phantom.hpp"
#include "xraylift/detect2d/case_data.hpp"
#include "xraylift/detect2d/on_the_fly.hpp"
#include "xraylift/detect3d/job.hpp"
#include "xraylift/drr/render_case.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
namespace fs = std::filesystem;

namespace {

constexpr int kCases = 4;

const std::vector<fs::path>& case_dirs() {
  static const std::vector<fs::path> dirs = [] {
    const fs::path root = xraylift::testing::scratch_dir("bench_train_cases");
    std::vector<fs::path> out;
    for (int i = 0; i < kCases; ++i) {
      data::PhantomSpec spec;
      spec.seed = 100 + i, spec.dims = {160, 160, 64}, spec.spacing_mm = {2.2, 2.2, 5.0}, spec.nodules = 3;
      spec.vessels = false;
      out.push_back(root / core::cat("case", i));
      data::save_case(out.back(), data::generate_phantom(spec).ct);
    }
    return out;
  }();
  return dirs;
}

core::Rig rig_of(int size) { return core::Rig::ring({}).with_detector_width(size); }

fs::path rendered(int size) {
  const fs::path root = xraylift::testing::scratch_dir(core::cat("bench_train_views_", size));
  for (std::size_t i = 0; i < case_dirs().size(); ++i)
    drr::render_case(data::load_case(case_dirs()[i]), rig_of(size), drr::RenderOptions{}, {},
                     root / core::cat("case", i));
  return root;
}

void run_loader(benchmark::State& state, const train::Dataset& data, int workers) {
  train::LoaderOptions o;
  o.batch_size = 1;
  o.workers = workers;
  o.prefetch = 4;
  o.seed = 1;
  std::int64_t samples = 0;
  for (auto _ : state) {
    state.PauseTiming();
    train::Loader loader(data, o);
    loader.start(0);
    state.ResumeTiming();
    for (int s = 0; s < 16; ++s) benchmark::DoNotOptimize(loader.next());
    samples += 16;
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}

void BM_LoaderFromDisk(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const fs::path views = rendered(size);
  detect2d::CaseDataset data({views});
  run_loader(state, data, static_cast<int>(state.range(1)));
}

void BM_LoaderOnTheFly(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const bool cuda = state.range(2) == 1;
  if (cuda && !torch::cuda::is_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  detect2d::OnTheFlyOptions o;
  o.cases = case_dirs();
  o.device = cuda ? "cuda" : "cpu";
  o.pixel_size_mm = 0.78125 * 1024 / size;
  o.jitter.angle_deg = 2, o.jitter.sad_mm = 10, o.jitter.sdd_mm = 10, o.jitter.detector_offset_mm = 4;
  o.jitter.pose_deg = 2, o.jitter.pose_mm = 5;
  o.photons = 2e4;
  detect2d::OnTheFlyDataset data(o, rig_of(size));
  for (std::size_t i = 0; i < data.size(); ++i) data.get(i);  // volumes resident, as after the first epoch
  run_loader(state, data, static_cast<int>(state.range(1)));
}

// Gradient bytes one rank all-reduces per step (float32 parameters) for the configs' models.
void BM_AllreducePayload(benchmark::State& state) {
  const char* configs[] = {"configs/detect3d/cpu_small.yaml", "configs/detect3d/seed_r50.yaml"};
  const auto path = xraylift::testing::source_dir() / configs[state.range(0)];
  auto cfg = core::Config::load(path);
  const auto job = detect3d::Detect3DJob::from_config(cfg);
  const auto method = job.make_method(job.method);
  std::int64_t bytes = 0;
  for (const auto& p : method->module()->parameters())
    if (p.requires_grad()) bytes += p.numel() * p.element_size();
  for (auto _ : state) benchmark::DoNotOptimize(bytes);
  state.counters["allreduce_MB"] = static_cast<double>(bytes) / 1e6;
  state.SetLabel(configs[state.range(0)]);
}

}  // namespace

// {view size, workers, device}
BENCHMARK(BM_LoaderFromDisk)->Args({256, 2, 0})->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_LoaderOnTheFly)
    ->Args({256, 2, 0})
    ->Args({256, 2, 1})
    ->Args({1024, 2, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();
BENCHMARK(BM_AllreducePayload)->Arg(0)->Arg(1)->Iterations(1);

BENCHMARK_MAIN();
