#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#ifdef XRAYLIFT_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "drr_test_util.hpp"
#include "xraylift/core/device.hpp"
#include "xraylift/drr/render.hpp"
#include "xraylift/drr/render_tensor.hpp"
#include "xraylift/testing/testing.hpp"

using namespace xraylift;
using namespace xraylift::drr;

namespace {
torch::Tensor hu_tensor(const core::VolumeGeometry& g) {
  torch::Tensor t = torch::linspace(-1000, 1200, g.voxel_count(), torch::kFloat32);
  return t.reshape({g.dims.z(), g.dims.y(), g.dims.x()});
}
}  // namespace

TEST(RenderTensor, CpuTensorMatchesRender) {
  const core::VolumeGeometry g = core::VolumeGeometry::centered({24, 20, 16}, {2, 2, 3});
  const torch::Tensor hu = hu_tensor(g);
  const core::Rig rig = fixture::small_ring(32, 300, 600, 4);
  RenderOptions o;
  o.bone = BoneModel::kLinear;
  const torch::Tensor out = render_tensor(hu, g, rig, o);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{4, 32, 32}));
  core::VolumeF vol(g);
  std::memcpy(vol.data(), hu.data_ptr<float>(), sizeof(float) * vol.size());
  const DrrImages ref = render(vol, rig, o);
  const float* p = out.data_ptr<float>();
  for (std::size_t n = 0; n < ref.line_integral.size(); ++n) ASSERT_EQ(p[n], ref.line_integral[n]);
  EXPECT_THROW(render_tensor(hu.reshape({-1}), g, rig, o), core::InputError);
  EXPECT_THROW(render_tensor(hu.transpose(0, 2).contiguous(), g, rig, o), core::InputError);
}

// The tensor layout is [nz, ny, nx] (x fastest), built here element by element, independently of the library's
// memory layout: a bright block at one asymmetric index must light up the pixels its world position projects to.
TEST(RenderTensor, LayoutIsZYXAndTheBlockProjectsWhereItIs) {
  const core::VolumeGeometry g = core::VolumeGeometry::centered({24, 20, 16}, {2, 2, 3});
  torch::Tensor hu = torch::full({16, 20, 24}, -1000.0f);
  auto a = hu.accessor<float, 3>();
  const int bi = 4, bj = 14, bk = 11;  // block of 2 x 2 x 2 voxels from (bi, bj, bk)
  for (int k = bk; k < bk + 2; ++k)
    for (int j = bj; j < bj + 2; ++j)
      for (int i = bi; i < bi + 2; ++i) a[k][j][i] = 3000.0f;
  core::VolumeF vol(g, -1000.0f);
  for (int k = 0; k < 16; ++k)
    for (int j = 0; j < 20; ++j)
      for (int i = 0; i < 24; ++i) vol.at(i, j, k) = a[k][j][i];
  const core::Rig rig = fixture::small_ring(48, 300, 600, 4);
  RenderOptions o;
  const torch::Tensor out = render_tensor(hu, g, rig, o);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{4, 48, 48}));
  const DrrImages ref = render(vol, rig, o);
  const auto img = out.accessor<float, 3>();
  for (int v = 0; v < 4; ++v) {
    for (int r = 0; r < 48; ++r)
      for (int c = 0; c < 48; ++c) ASSERT_EQ(img[v][r][c], ref.view(v)[r * 48 + c]) << v << " " << r << " " << c;
    // The brightest pixel is where the block's world centre projects.
    const Eigen::Vector3d centre = g.index_to_world(Eigen::Vector3d(bi + 0.5, bj + 0.5, bk + 0.5));
    const Eigen::Vector2d uv = rig[v].project(centre);
    int best_r = 0, best_c = 0;
    for (int r = 0; r < 48; ++r)
      for (int c = 0; c < 48; ++c)
        if (img[v][r][c] > img[v][best_r][best_c]) best_r = r, best_c = c;
    EXPECT_LE(std::abs(best_c + 0.5 - uv.x()), 1.5) << "view " << v << " column " << best_c << " vs u " << uv.x();
    EXPECT_LE(std::abs(best_r + 0.5 - uv.y()), 1.5) << "view " << v << " row " << best_r << " vs v " << uv.y();
  }
}

TEST(RenderTensor, CudaTensorMatchesCpu) {
  XL_REQUIRE_CUDA();
  const core::VolumeGeometry g = core::VolumeGeometry::centered({64, 60, 40}, {1.5, 1.5, 2.5});
  const torch::Tensor hu = hu_tensor(g);
  const core::Rig rig = fixture::small_ring(96);
  for (Integrator integrator : {Integrator::kSiddon, Integrator::kTrilinear}) {
    RenderOptions o;
    o.integrator = integrator;
    const torch::Tensor cpu = render_tensor(hu, g, rig, o);
    const torch::Tensor gpu = render_tensor(hu.to(torch::kCUDA), g, rig, o);
    EXPECT_TRUE(gpu.is_cuda());
    EXPECT_TRUE(torch::allclose(gpu.cpu(), cpu, 2e-3, 1e-4)) << to_string(integrator);
  }
}

// The resident volume on the CPU: the same images as render(), for both integrators, from one construction; a
// different attenuation model is refused; non-finite HU throw at construction (like the CPU render).
TEST(ResidentVolume, CpuRendersManyRigsFromOneVolume) {
  const core::VolumeGeometry g = core::VolumeGeometry::centered({24, 20, 16}, {2, 2, 3});
  const torch::Tensor hu = hu_tensor(g);
  core::VolumeF vol(g);
  std::memcpy(vol.data(), hu.data_ptr<float>(), sizeof(float) * vol.size());
  RenderOptions o;
  const ResidentVolume resident(hu, g, o);
  EXPECT_TRUE(resident.device().is_cpu());
  for (int views : {2, 5}) {
    const core::Rig rig = fixture::small_ring(24, 300, 600, views);
    for (Integrator integrator : {Integrator::kSiddon, Integrator::kTrilinear}) {
      RenderOptions r = o;
      r.integrator = integrator;
      const torch::Tensor out = resident.render(rig, r);
      const DrrImages ref = render(vol, rig, r);
      ASSERT_EQ(out.size(0), views);
      const float* p = out.data_ptr<float>();
      for (std::size_t n = 0; n < ref.line_integral.size(); ++n) ASSERT_EQ(p[n], ref.line_integral[n]);
    }
  }
  RenderOptions bone = o;
  bone.bone = BoneModel::kLinear;
  EXPECT_THROW(resident.render(fixture::small_ring(16), bone), core::InputError);
  torch::Tensor bad = hu.clone();
  bad.view({-1})[77] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(ResidentVolume(bad, g, o), core::InputError);
}

// CUDA: resident renders match the CPU, run on torch's current stream (a side stream here), and non-finite HU
// throw at construction like the CPU path.
#ifdef XRAYLIFT_WITH_CUDA
TEST(ResidentVolume, CudaMatchesCpuOnTheCurrentStream) {
  XL_REQUIRE_CUDA();
  const core::VolumeGeometry g = core::VolumeGeometry::centered({64, 60, 40}, {1.5, 1.5, 2.5});
  const torch::Tensor hu = hu_tensor(g);
  const core::Rig rig = fixture::small_ring(96);
  RenderOptions o;
  const ResidentVolume cpu(hu, g, o);
  const ResidentVolume gpu(hu.to(torch::kCUDA), g, o);
  EXPECT_TRUE(gpu.device().is_cuda());
  for (Integrator integrator : {Integrator::kSiddon, Integrator::kTrilinear}) {
    RenderOptions r = o;
    r.integrator = integrator;
    const torch::Tensor ref = cpu.render(rig, r);
    torch::Tensor got;
    {
      c10::cuda::CUDAStreamGuard side(c10::cuda::getStreamFromPool());
      got = gpu.render(rig, r);
      got = got.cpu();  // copies on the side stream, after the render
    }
    EXPECT_TRUE(torch::allclose(got, ref, 2e-3, 1e-4)) << to_string(integrator);
  }
  torch::Tensor bad = hu.clone();
  bad.view({-1})[1234] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(ResidentVolume(bad.to(torch::kCUDA), g, o), core::InputError);
}
#endif  // XRAYLIFT_WITH_CUDA
