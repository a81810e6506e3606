// GPU DRR benchmark: 10 views of 1024 x 1024 through the seed ring, volume resident on the device (a CudaVolume,
// as training renders on the fly); times one launch for all views incl. synchronisation, not the upload.
// Run by scripts/bench_gpu.sh on a GPU machine; skips without a device.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include "bench_common.hpp"
#include "xraylift/drr/cuda_backend.hpp"
#include "xraylift/drr/render.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {

void run(benchmark::State& state, int integrator, double step_voxels) {
  if (!cuda::available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const core::VolumeI16* sample = bench::lidc_sample();
  const core::VolumeI16& hu = sample ? *sample : bench::synthetic_chest();
  const RenderOptions defaults;
  const core::VolumeF mu = attenuation_volume(hu, defaults);
  const core::Rig rig = bench::ring(static_cast<int>(state.range(0)));
  std::vector<core::PinholeF> cams;
  for (const auto& c : rig) cams.push_back(c.to_pod());
  cuda::CudaVolume volume(mu.data(), grid_of(mu.geometry(), "bench"), true);
  cuda::KernelOptions k;
  k.integrator = integrator;
  k.step_mm = static_cast<float>(step_voxels * mu.spacing().minCoeff());
  const std::size_t count = cams.size() * std::size_t(rig[0].width()) * rig[0].height();
  float* out = nullptr;
  cudaMalloc(&out, count * sizeof(float));
  volume.render(cams, k, out);  // warm-up
  cudaDeviceSynchronize();
  for (auto _ : state) {
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    cudaEventRecord(a);
    volume.render(cams, k, out);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    state.SetIterationTime(ms / 1000.0);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
  }
  cudaFree(out);
  state.counters["rays_per_s"] =
      benchmark::Counter(static_cast<double>(count) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel(sample ? "LIDC sample" : "synthetic 512x512x133");
}

void BM_Gpu_Siddon(benchmark::State& s) { run(s, 0, 0.5); }
void BM_Gpu_Trilinear_step0_5(benchmark::State& s) { run(s, 1, 0.5); }
void BM_Gpu_Trilinear_step1(benchmark::State& s) { run(s, 1, 1.0); }

}  // namespace

BENCHMARK(BM_Gpu_Siddon)->Arg(1024)->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpu_Trilinear_step0_5)->Arg(1024)->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpu_Trilinear_step1)->Arg(1024)->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
