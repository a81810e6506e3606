// detect2d op and model benchmarks. CPU: RoIAlign forward/backward (FPN-level sizes of the seed model) and NMS.
// CUDA (skipped without a GPU): the same ops and one training step of the full ResNet-50 FPN model at 10 x 1024^2
// (bf16 autocast and fp32; two warm-up steps excluded). With XRAYLIFT_BENCH_OPS_DIR set, the CUDA op benchmarks
// write their inputs there as .npy (scripts/bench_torchvision_ops.py times torchvision's ops on the same inputs).
#include <ATen/autocast_mode.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "xraylift/core/device.hpp"
#include "xraylift/core/npy.hpp"
#include "xraylift/detect2d/model.hpp"
#include "xraylift/detect2d/ops.hpp"

using namespace xraylift;

namespace {

torch::Tensor random_rois(int64_t k, double image, int64_t batch, const torch::Device& device) {
  auto gen = at::detail::createCPUGenerator(1);
  auto xy = torch::rand({k, 2}, gen) * image * 0.9;
  auto wh = torch::rand({k, 2}, gen) * 60 + 4;
  auto b = torch::randint(0, batch, {k, 1}, gen).to(torch::kFloat);
  return torch::cat({b, xy, xy + wh}, 1).to(device);
}

torch::Tensor random_boxes(int64_t n, const torch::Device& device) {
  auto gen = at::detail::createCPUGenerator(2);
  auto xy = torch::rand({n, 2}, gen) * 1000;
  auto wh = torch::rand({n, 2}, gen) * 80 + 4;
  return torch::cat({xy, xy + wh}, 1).to(device);
}

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

// Writes a benchmark input as float32 .npy into $XRAYLIFT_BENCH_OPS_DIR (CUDA runs only; nothing when unset).
void dump_input(const torch::Device& device, const std::string& name, const torch::Tensor& t) {
  const char* dir = std::getenv("XRAYLIFT_BENCH_OPS_DIR");
  if (!device.is_cuda() || !dir || !*dir) return;
  const auto cpu = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  std::filesystem::create_directories(dir);
  core::write_npy(std::filesystem::path(dir) / (name + ".npy"), cpu.data_ptr<float>(),
                  std::vector<std::int64_t>(cpu.sizes().begin(), cpu.sizes().end()));
}

// RoIAlign on a stride-8 map of a 1024^2 view (128 x 128 x 256), batch 2, K RoIs, 7 x 7, sampling 2.
void roi_align_forward(benchmark::State& state, torch::Device device) {
  if (device.is_cuda() && !core::cuda_device_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  torch::NoGradGuard no_grad;
  const auto feats = torch::randn({2, 256, 128, 128}).to(device);
  const auto rois = random_rois(state.range(0), 1024, 2, device);
  dump_input(device, "roi_align_forward_feats_" + std::to_string(state.range(0)), feats);
  dump_input(device, "roi_align_forward_rois_" + std::to_string(state.range(0)), rois);
  detect2d::RoIAlignOptions o;
  o.spatial_scale = 1.0 / 8;
  for (auto _ : state) {
    benchmark::DoNotOptimize(detect2d::roi_align_forward(feats, rois, o));
    sync(device);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void roi_align_backward(benchmark::State& state, torch::Device device) {
  if (device.is_cuda() && !core::cuda_device_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const auto rois = random_rois(state.range(0), 1024, 2, device);
  const auto grad = torch::randn({state.range(0), 256, 7, 7}).to(device);
  dump_input(device, "roi_align_backward_rois_" + std::to_string(state.range(0)), rois);
  dump_input(device, "roi_align_backward_grad_" + std::to_string(state.range(0)), grad);
  detect2d::RoIAlignOptions o;
  o.spatial_scale = 1.0 / 8;
  for (auto _ : state) {
    benchmark::DoNotOptimize(detect2d::roi_align_backward(grad, rois, o, 2, 256, 128, 128));
    sync(device);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void nms(benchmark::State& state, torch::Device device) {
  if (device.is_cuda() && !core::cuda_device_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const auto boxes = random_boxes(state.range(0), device);
  const auto scores = torch::rand({state.range(0)}).to(device);
  dump_input(device, "nms_boxes_" + std::to_string(state.range(0)), boxes);
  dump_input(device, "nms_scores_" + std::to_string(state.range(0)), scores);
  for (auto _ : state) {
    benchmark::DoNotOptimize(detect2d::nms(boxes, scores, 0.7));
    sync(device);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// One optimizer step of the seed model (ResNet-50 GN, FPN strides 8..128) on 10 views of 1024^2, in bf16 autocast
// or fp32; two warm-up steps (cuDNN algorithm search, caching allocator growth) are not timed.
void train_step_resnet50(benchmark::State& state, bool bf16) {
  if (!core::cuda_device_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  const torch::Device device(torch::kCUDA);
  detect2d::ModelConfig c;
  c.norm = "gn";
  detect2d::FasterRCNN model(c);
  model->to(device);
  model->train();
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(2e-4));
  const auto images = torch::rand({10, 1, 1024, 1024}).to(device);
  std::vector<detect2d::ImageTargets> targets;
  for (int i = 0; i < 10; ++i)
    targets.push_back({torch::tensor({{300.f, 400.f, 340.f, 436.f}, {600.f, 200.f, 620.f, 222.f}}).to(device),
                       torch::ones({2}, torch::kLong).to(device)});
  auto step = [&] {
    if (bf16) {
      at::autocast::set_autocast_enabled(at::kCUDA, true);
      at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    }
    auto losses = model->losses(images, targets);
    if (bf16) {
      at::autocast::set_autocast_enabled(at::kCUDA, false);
      at::autocast::clear_cache();
    }
    opt.zero_grad();
    losses["loss"].backward();
    opt.step();
    torch::cuda::synchronize();
  };
  try {  // e.g. out of memory in fp32: a failed row, not a lost run
    for (int w = 0; w < 2; ++w) step();
    for (auto _ : state) {
      const auto t0 = std::chrono::steady_clock::now();
      step();
      state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  state.SetItemsProcessed(state.iterations() * 10);
}

}  // namespace

BENCHMARK_CAPTURE(roi_align_forward, cpu, torch::Device(torch::kCPU))
    ->Arg(512)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(roi_align_backward, cpu, torch::Device(torch::kCPU))
    ->Arg(512)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(nms, cpu, torch::Device(torch::kCPU))->Arg(1000)->Arg(4000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(roi_align_forward, cuda, torch::Device(torch::kCUDA))
    ->Arg(512)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(roi_align_backward, cuda, torch::Device(torch::kCUDA))
    ->Arg(512)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(nms, cuda, torch::Device(torch::kCUDA))->Arg(1000)->Arg(4000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(train_step_resnet50, bf16, true)->Unit(benchmark::kMillisecond)->Iterations(5)->UseManualTime();
BENCHMARK_CAPTURE(train_step_resnet50, fp32, false)->Unit(benchmark::kMillisecond)->Iterations(5)->UseManualTime();

BENCHMARK_MAIN();
