// The CUDA twin against the CPU reference (skips without a GPU).
#include <gtest/gtest.h>
#ifdef XRAYLIFT_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "drr_test_util.hpp"
#include "xraylift/core/device.hpp"
#include "xraylift/drr/cuda_backend.hpp"
#include "xraylift/drr/render.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {
core::VolumeF textured_volume() {
  core::VolumeF vol(core::VolumeGeometry::centered({90, 80, 60}, {1.1, 1.3, 2.0}), 0.0f);
  for (int k = 0; k < 60; ++k)
    for (int j = 0; j < 80; ++j)
      for (int i = 0; i < 90; ++i) {
        const Eigen::Vector3d p = vol.index_to_world(Eigen::Vector3d(i, j, k));
        const double smooth = std::exp(-p.squaredNorm() / (2 * 25.0 * 25.0));
        vol.at(i, j, k) = static_cast<float>(0.02 * smooth + 0.004 * ((i * 7 + j * 3 + k) % 5 == 0));
      }
  return vol;
}
}  // namespace

TEST(RenderCuda, MatchesCpuForBothIntegrators) {
  XL_REQUIRE_CUDA();
  const core::VolumeF vol = textured_volume();
  const core::Rig rig = fixture::small_ring(128);
  for (Integrator integrator : {Integrator::kSiddon, Integrator::kTrilinear}) {
    RenderOptions cpu;
    cpu.integrator = integrator;
    RenderOptions gpu = cpu;
    gpu.device = Device::kCuda;
    const DrrImages a = render_attenuation(vol, rig, cpu);
    const DrrImages b = render_attenuation(vol, rig, gpu);
    ASSERT_EQ(a.line_integral.size(), b.line_integral.size());
    double worst = 0;
    for (std::size_t n = 0; n < a.line_integral.size(); ++n) {
      const double diff = std::abs(a.line_integral[n] - b.line_integral[n]);
      worst = std::max(worst, diff);
      // Stated tolerance: Siddon 1e-4 relative + 1e-5 (float vs double); trilinear 2e-3 relative + 1e-4 (the
      // texture unit's 8-bit interpolation weights).
      const double rel = integrator == Integrator::kSiddon ? 1e-4 : 2e-3;
      const double abs = integrator == Integrator::kSiddon ? 1e-5 : 1e-4;
      ASSERT_LE(diff, rel * std::abs(a.line_integral[n]) + abs) << to_string(integrator) << " pixel " << n;
    }
    std::printf("[cuda vs cpu] %s: worst absolute difference %.3g\n", to_string(integrator), worst);
  }
}

TEST(RenderCuda, UnavailableWithoutDevice) {
  if (cuda::available()) GTEST_SKIP() << "a CUDA device exists here";
  RenderOptions gpu;
  gpu.device = Device::kCuda;
  EXPECT_THROW(render_attenuation(textured_volume(), fixture::small_ring(16), gpu), core::InputError);
}

namespace {
std::vector<core::PinholeF> pods_of(const core::Rig& rig) {
  std::vector<core::PinholeF> pods;
  for (const auto& c : rig) pods.push_back(c.to_pod());
  return pods;
}
}  // namespace

// The device support box equals the CPU rule (voxels with mu > 0, one voxel of margin, clamped to the grid).
TEST(RenderCuda, SupportBoxIsTheCpuRule) {
  XL_REQUIRE_CUDA();
  core::VolumeF vol(core::VolumeGeometry::centered({40, 30, 20}, {1, 1, 1}), 0.0f);
  vol.at(5, 7, 0) = 0.01f;
  vol.at(20, 28, 12) = 0.02f;
  vol.at(39, 10, 6) = -0.5f;  // not support (the CPU rule is mu > 0)
  const cuda::CudaVolume gpu(vol.data(), grid_of(vol.geometry(), "test"), true);
  int lo[3], hi[3];
  gpu.support_cells(lo, hi);
  EXPECT_EQ(lo[0], 4);
  EXPECT_EQ(lo[1], 6);
  EXPECT_EQ(lo[2], 0);
  EXPECT_EQ(hi[0], 22);
  EXPECT_EQ(hi[1], 30);
  EXPECT_EQ(hi[2], 14);
  const core::VolumeF air(core::VolumeGeometry::centered({8, 8, 8}, {1, 1, 1}), 0.0f);
  const cuda::CudaVolume empty(air.data(), grid_of(air.geometry(), "test"), true);
  empty.support_cells(lo, hi);
  EXPECT_GE(lo[0], hi[0]);
  const std::vector<float> img = empty.render_to_host(pods_of(fixture::small_ring(16)), cuda::KernelOptions{});
  for (float v : img) ASSERT_EQ(v, 0.0f);
}

// The half texture against the CPU twin that rounds the same way (RenderOptions::half_texture).
TEST(RenderCuda, HalfTextureMatchesCpuTwin) {
  XL_REQUIRE_CUDA();
  const core::VolumeF vol = textured_volume();
  const core::Rig rig = fixture::small_ring(96);
  RenderOptions cpu;
  cpu.integrator = Integrator::kTrilinear;
  cpu.half_texture = true;
  RenderOptions gpu = cpu;
  gpu.device = Device::kCuda;
  const DrrImages a = render_attenuation(vol, rig, cpu), b = render_attenuation(vol, rig, gpu);
  for (std::size_t n = 0; n < a.line_integral.size(); ++n)
    ASSERT_LE(std::abs(a.line_integral[n] - b.line_integral[n]), 2e-3 * std::abs(a.line_integral[n]) + 1e-4) << n;
}

// More views than one launch holds (kMaxViewsPerLaunch): every view lands in its own slice.
TEST(RenderCuda, ManyViewsSpanSeveralLaunches) {
  XL_REQUIRE_CUDA();
  const core::VolumeF vol = textured_volume();
  const core::Rig rig = fixture::small_ring(32, 300, 600, cuda::kMaxViewsPerLaunch + 8);
  RenderOptions cpu;
  RenderOptions gpu = cpu;
  gpu.device = Device::kCuda;
  const DrrImages a = render_attenuation(vol, rig, cpu), b = render_attenuation(vol, rig, gpu);
  ASSERT_EQ(a.views, cuda::kMaxViewsPerLaunch + 8);
  for (std::size_t n = 0; n < a.line_integral.size(); ++n)
    ASSERT_LE(std::abs(a.line_integral[n] - b.line_integral[n]), 1e-4 * std::abs(a.line_integral[n]) + 1e-5) << n;
}

#ifdef XRAYLIFT_WITH_CUDA
// Renders queued on two streams, then the volume destroyed at once: the destructor waits for both (no texture or
// buffer freed under a running kernel), and both results are complete.
TEST(RenderCuda, DestroyWhileRenderingWaitsForEveryStream) {
  XL_REQUIRE_CUDA();
  const core::VolumeF vol = textured_volume();
  const core::Rig rig = fixture::small_ring(256);
  const std::vector<core::PinholeF> cams = pods_of(rig);
  const std::size_t count = cams.size() * 256 * 256;
  RenderOptions cpu;
  cpu.integrator = Integrator::kTrilinear;
  const DrrImages ref = render_attenuation(vol, rig, cpu);
  std::vector<float> host_a(count), host_b(count);
  {
    auto volume = std::make_unique<cuda::CudaVolume>(vol.data(), grid_of(vol.geometry(), "test"), true);
    void* out_a = nullptr;
    void* out_b = nullptr;
    ASSERT_EQ(cudaMalloc(&out_a, count * sizeof(float)), cudaSuccess);
    ASSERT_EQ(cudaMalloc(&out_b, count * sizeof(float)), cudaSuccess);
    cudaStream_t s1, s2;
    ASSERT_EQ(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking), cudaSuccess);
    ASSERT_EQ(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking), cudaSuccess);
    cuda::KernelOptions k;
    k.integrator = drr::Integrator::kTrilinear;
    k.step_mm = static_cast<float>(cpu.trilinear_step_mm(vol.spacing().minCoeff()));
    volume->render(cams, k, static_cast<float*>(out_a), s1);
    volume->render(cams, k, static_cast<float*>(out_b), s2);
    volume.reset();  // must wait for both streams
    ASSERT_EQ(cudaMemcpy(host_a.data(), out_a, count * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(host_b.data(), out_b, count * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    cudaStreamDestroy(s1);
    cudaStreamDestroy(s2);
    cudaFree(out_a);
    cudaFree(out_b);
  }
  EXPECT_EQ(host_a, host_b);
  for (std::size_t n = 0; n < count; ++n)
    ASSERT_LE(std::abs(host_a[n] - ref.line_integral[n]), 2e-3 * std::abs(ref.line_integral[n]) + 1e-4) << n;
}

// Non-finite HU: the device conversion reports the first one (the CPU path throws for it too).
TEST(RenderCuda, AttenuationReportsNonFiniteHu) {
  XL_REQUIRE_CUDA();
  std::vector<float> hu(1000, 40.0f);
  hu[617] = std::numeric_limits<float>::quiet_NaN();
  hu[803] = std::numeric_limits<float>::infinity();
  float *d_hu = nullptr, *d_mu = nullptr;
  ASSERT_EQ(cudaMalloc(&d_hu, hu.size() * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&d_mu, hu.size() * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(d_hu, hu.data(), hu.size() * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  const RenderOptions o;
  EXPECT_EQ(cuda::attenuation_on_device(d_hu, d_mu, hu.size(), o.attenuation()), 617);
  EXPECT_EQ(cuda::attenuation_on_device(d_hu, d_mu, 600, o.attenuation()), -1);
  std::vector<float> mu(hu.size());
  ASSERT_EQ(cudaMemcpy(mu.data(), d_mu, mu.size() * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_FLOAT_EQ(mu[0], hu_to_mu(40.0f, o.attenuation()));
  EXPECT_EQ(mu[617], 0.0f);
  cudaFree(d_hu);
  cudaFree(d_mu);
}
#endif  // XRAYLIFT_WITH_CUDA
