// The CUDA twin against the CPU reference (skips without a GPU).
#include <gtest/gtest.h>

#include <cmath>

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
