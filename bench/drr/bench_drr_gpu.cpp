// GPU DRR benchmark (scripts/bench_gpu.sh): 10 views of 1024^2 and 256^2 through the seed ring, LIDC sample when
// present (else the synthetic 512 x 512 x 133 chest), both integrators, two modes:
//   resident  a CudaVolume built once (as training renders on the fly); times one render of all views on a stream
//             with CUDA events (no upload, no allocation, no synchronisation inside the timed region but the end);
//   per_call  HU already on the device, then per call what render_tensor does: HU -> mu (with its non-finite check,
//             one synchronisation), the volume (texture upload for trilinear), the render, the teardown; wall time.
// Names: drr_gpu/<integrator>/<mode>/<pixels>; the table script (scripts/bench_gpu_table.py) reads them.
// Skips (SkipWithError) without a device.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <chrono>
#include <exception>
#include <string>

#include "bench_common.hpp"
#include "xraylift/drr/cuda_backend.hpp"
#include "xraylift/drr/render.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {

struct Variant {
  std::string name;
  Integrator integrator;
  double step_voxels;  // trilinear step
  bool half;
};

const core::VolumeI16& volume_hu() {
  const core::VolumeI16* sample = bench::lidc_sample();
  return sample ? *sample : bench::synthetic_chest();
}

const char* volume_label() { return bench::lidc_sample() ? "LIDC sample" : "synthetic 512x512x133"; }

void resident_body(benchmark::State& state, const Variant& v, int pixels);
void per_call_body(benchmark::State& state, const Variant& v, int pixels);

// A CUDA error (std::runtime_error from cuda_backend) marks the benchmark as failed with its message instead of
// ending the program: the other rows and the JSON still come out.
void resident(benchmark::State& state, Variant v, int pixels) {
  try {
    resident_body(state, v, pixels);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}
void per_call(benchmark::State& state, Variant v, int pixels) {
  try {
    per_call_body(state, v, pixels);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

void resident_body(benchmark::State& state, const Variant& v, int pixels) {
  if (!cuda::available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const core::VolumeF mu = attenuation_volume(volume_hu(), RenderOptions{});
  const core::Rig rig = bench::ring(pixels);
  std::vector<core::PinholeF> cams;
  for (const auto& c : rig) cams.push_back(c.to_pod());
  cuda::VolumeOptions vo;
  vo.siddon = v.integrator == Integrator::kSiddon;
  vo.trilinear = v.integrator == Integrator::kTrilinear;
  vo.half_texture = v.half;
  cuda::CudaVolume volume(mu.data(), grid_of(mu.geometry(), "bench"), true, vo);
  cuda::KernelOptions k;
  k.integrator = v.integrator;
  k.step_mm = static_cast<float>(v.step_voxels * mu.spacing().minCoeff());
  const std::size_t count = cams.size() * std::size_t(pixels) * pixels;
  float* out = nullptr;
  cudaMalloc(&out, count * sizeof(float));
  cudaStream_t stream;
  cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  for (int w = 0; w < 3; ++w) volume.render(cams, k, out, stream);  // warm-up
  cudaStreamSynchronize(stream);
  for (auto _ : state) {
    cudaEventRecord(a, stream);
    volume.render(cams, k, out, stream);
    cudaEventRecord(b, stream);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    state.SetIterationTime(ms / 1000.0);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaStreamDestroy(stream);
  cudaFree(out);
  state.counters["rays_per_s"] =
      benchmark::Counter(static_cast<double>(count) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel(volume_label());
}

void per_call_body(benchmark::State& state, const Variant& v, int pixels) {
  if (!cuda::available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const core::VolumeI16& hu16 = volume_hu();
  std::vector<float> hu(hu16.values().begin(), hu16.values().end());
  const GridF grid = grid_of(hu16.geometry(), "bench");
  const core::Rig rig = bench::ring(pixels);
  std::vector<core::PinholeF> cams;
  for (const auto& c : rig) cams.push_back(c.to_pod());
  const std::size_t voxels = hu.size(), count = cams.size() * std::size_t(pixels) * pixels;
  float *d_hu = nullptr, *d_mu = nullptr, *out = nullptr;
  cudaMalloc(&d_hu, voxels * sizeof(float));
  cudaMalloc(&d_mu, voxels * sizeof(float));
  cudaMalloc(&out, count * sizeof(float));
  cudaMemcpy(d_hu, hu.data(), voxels * sizeof(float), cudaMemcpyHostToDevice);
  cuda::KernelOptions k;
  k.integrator = v.integrator;
  k.step_mm = static_cast<float>(v.step_voxels * hu16.spacing().minCoeff());
  cuda::VolumeOptions vo;
  vo.siddon = v.integrator == Integrator::kSiddon;
  vo.trilinear = v.integrator == Integrator::kTrilinear;
  vo.half_texture = v.half;
  const AttenuationModel model = RenderOptions{}.attenuation();
  auto once = [&] {
    cuda::attenuation_on_device(d_hu, d_mu, voxels, model);
    cuda::CudaVolume volume(d_mu, grid, false, vo, nullptr, /*borrow=*/true);
    volume.render(cams, k, out);
  };       // the destructor waits for the render
  once();  // warm-up
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    once();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  cudaFree(d_hu);
  cudaFree(d_mu);
  cudaFree(out);
  state.SetLabel(volume_label());
}

}  // namespace

int main(int argc, char** argv) {
  const Variant variants[] = {{"siddon", Integrator::kSiddon, 0.5, false},
                              {"trilinear", Integrator::kTrilinear, 0.5, false},
                              {"trilinear_step1", Integrator::kTrilinear, 1.0, false},
                              {"trilinear_half", Integrator::kTrilinear, 0.5, true}};
  for (const Variant& v : variants)
    for (int pixels : {1024, 256}) {
      const std::string size = std::to_string(pixels);
      benchmark::RegisterBenchmark(("drr_gpu/" + v.name + "/resident/" + size).c_str(),
                                   [v, pixels](benchmark::State& s) { resident(s, v, pixels); })
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
      if (v.name == "siddon" || v.name == "trilinear")
        benchmark::RegisterBenchmark(("drr_gpu/" + v.name + "/per_call/" + size).c_str(),
                                     [v, pixels](benchmark::State& s) { per_call(s, v, pixels); })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
    }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
