// CUDA twin of the CPU renderer (render.cpp): same per-ray math (ray_math.hpp) in float precision.
//   - trilinear: the attenuation volume sits in a float 3D texture (cudaFilterModeLinear, clamp addressing,
//     unnormalised coordinates, so a cell coordinate g samples voxel centres at i + 0.5 exactly as the CPU does);
//   - Siddon: the same volume as a linear global-memory array;
//   - one launch for all views: blocks of 16 x 16 pixels, gridDim.z = views; rays are clipped to the volume box.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "xraylift/core/device.hpp"
#include "xraylift/core/error.hpp"
#include "xraylift/drr/cuda_backend.hpp"
#include "xraylift/drr/ray_math.hpp"

namespace xraylift::drr::cuda {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("drr cuda: ") + what + ": " + cudaGetErrorString(status));
}

__global__ void siddon_kernel(const float* __restrict__ mu, GridF grid, const core::PinholeF* __restrict__ cams,
                              int width, int height, float* __restrict__ out) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  const int view = blockIdx.z;
  if (col >= width || row >= height) return;
  const core::PinholeF cam = cams[view];
  const RayT<float> ray = camera_ray<float>(cam, col + 0.5f, row + 0.5f);
  float a0, a1, value = 0.0f;
  if (clip_ray_to_grid(ray, grid, a0, a1)) value = siddon_integral(mu, ray, grid, a0, a1);
  out[(static_cast<size_t>(view) * height + row) * width + col] = value;
}

__global__ void trilinear_kernel(cudaTextureObject_t tex, GridF grid, const core::PinholeF* __restrict__ cams,
                                 int width, int height, float step_mm, float* __restrict__ out) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  const int view = blockIdx.z;
  if (col >= width || row >= height) return;
  const core::PinholeF cam = cams[view];
  const RayT<float> ray = camera_ray<float>(cam, col + 0.5f, row + 0.5f);
  float a0, a1, value = 0.0f;
  if (clip_ray_to_grid(ray, grid, a0, a1)) {
    value = march_integral(ray, grid, a0, a1, step_mm,
                           [&](float gx, float gy, float gz) { return tex3D<float>(tex, gx, gy, gz); });
  }
  out[(static_cast<size_t>(view) * height + row) * width + col] = value;
}

__global__ void attenuation_kernel(const float* __restrict__ hu, float* __restrict__ mu, size_t count,
                                   AttenuationModel model) {
  const size_t n = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n < count) mu[n] = hu_to_mu(hu[n], model);
}

}  // namespace

void attenuation_on_device(const float* hu_device, float* mu_device, std::size_t count, const AttenuationModel& model,
                           void* stream) {
  if (count == 0) return;
  const unsigned threads = 256;
  const unsigned blocks = static_cast<unsigned>((count + threads - 1) / threads);
  attenuation_kernel<<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(hu_device, mu_device, count, model);
  check(cudaGetLastError(), "launching the attenuation kernel");
}

struct CudaVolume::Impl {
  GridF grid{};
  float* linear = nullptr;  // x-fastest copy for Siddon
  cudaArray_t array = nullptr;
  cudaTextureObject_t texture = 0;
  mutable core::PinholeF* cameras = nullptr;  // device buffer, grown on demand
  mutable size_t camera_capacity = 0;

  ~Impl() {
    if (texture) cudaDestroyTextureObject(texture);
    if (array) cudaFreeArray(array);
    if (linear) cudaFree(linear);
    if (cameras) cudaFree(cameras);
  }
};

bool available() { return core::cuda_device_available(); }

CudaVolume::CudaVolume(const float* mu, const GridF& grid, bool host_pointer) : impl_(std::make_unique<Impl>()) {
  XL_CHECK(mu != nullptr, "drr cuda: the volume pointer is null");
  XL_CHECK(grid.nx > 0 && grid.ny > 0 && grid.nz > 0, "drr cuda: volume dims (", grid.nx, ", ", grid.ny, ", ",
           grid.nz, ") must all be >= 1");
  impl_->grid = grid;
  const size_t count = static_cast<size_t>(grid.nx) * grid.ny * grid.nz;
  check(cudaMalloc(&impl_->linear, count * sizeof(float)), "allocating the volume");
  check(cudaMemcpy(impl_->linear, mu, count * sizeof(float),
                   host_pointer ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToDevice),
        "copying the volume");

  const cudaChannelFormatDesc desc = cudaCreateChannelDesc<float>();
  const cudaExtent extent = make_cudaExtent(grid.nx, grid.ny, grid.nz);
  check(cudaMalloc3DArray(&impl_->array, &desc, extent), "allocating the 3D texture array");
  cudaMemcpy3DParms copy{};
  copy.srcPtr = make_cudaPitchedPtr(impl_->linear, grid.nx * sizeof(float), grid.nx, grid.ny);
  copy.dstArray = impl_->array;
  copy.extent = extent;
  copy.kind = cudaMemcpyDeviceToDevice;
  check(cudaMemcpy3D(&copy), "filling the 3D texture array");

  cudaResourceDesc resource{};
  resource.resType = cudaResourceTypeArray;
  resource.res.array.array = impl_->array;
  cudaTextureDesc tex{};
  tex.addressMode[0] = tex.addressMode[1] = tex.addressMode[2] = cudaAddressModeClamp;
  tex.filterMode = cudaFilterModeLinear;
  tex.readMode = cudaReadModeElementType;
  tex.normalizedCoords = 0;
  check(cudaCreateTextureObject(&impl_->texture, &resource, &tex, nullptr), "creating the texture object");
}

CudaVolume::~CudaVolume() = default;

const GridF& CudaVolume::grid() const { return impl_->grid; }

void CudaVolume::render(const std::vector<core::PinholeF>& cameras, const KernelOptions& options, float* out_device,
                        void* stream_ptr) const {
  XL_CHECK(!cameras.empty(), "drr cuda: no cameras");
  XL_CHECK(out_device != nullptr, "drr cuda: the output pointer is null");
  XL_CHECK(options.integrator == 0 || options.integrator == 1, "drr cuda: integrator ", options.integrator,
           " is unknown; expected 0 (Siddon) or 1 (trilinear)");
  XL_CHECK(options.step_mm > 0, "drr cuda: step_mm = ", options.step_mm, ", expected > 0");
  const int width = cameras[0].width, height = cameras[0].height;
  for (const auto& c : cameras)
    XL_CHECK(c.width == width && c.height == height, "drr cuda: all cameras must share one image size");
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  if (impl_->camera_capacity < cameras.size()) {
    if (impl_->cameras) cudaFree(impl_->cameras);
    impl_->cameras = nullptr;
    check(cudaMalloc(&impl_->cameras, cameras.size() * sizeof(core::PinholeF)), "allocating cameras");
    impl_->camera_capacity = cameras.size();
  }
  check(cudaMemcpyAsync(impl_->cameras, cameras.data(), cameras.size() * sizeof(core::PinholeF),
                        cudaMemcpyHostToDevice, stream),
        "copying cameras");
  const dim3 block(16, 16, 1);
  const dim3 blocks((width + block.x - 1) / block.x, (height + block.y - 1) / block.y,
                    static_cast<unsigned>(cameras.size()));
  if (options.integrator == 0) {
    siddon_kernel<<<blocks, block, 0, stream>>>(impl_->linear, impl_->grid, impl_->cameras, width, height, out_device);
  } else {
    trilinear_kernel<<<blocks, block, 0, stream>>>(impl_->texture, impl_->grid, impl_->cameras, width, height,
                                                   options.step_mm, out_device);
  }
  check(cudaGetLastError(), "launching the DRR kernel");
}

std::vector<float> CudaVolume::render_to_host(const std::vector<core::PinholeF>& cameras,
                                              const KernelOptions& options) const {
  XL_CHECK(!cameras.empty(), "drr cuda: no cameras");
  const size_t count = cameras.size() * static_cast<size_t>(cameras[0].width) * cameras[0].height;
  float* out = nullptr;
  check(cudaMalloc(&out, count * sizeof(float)), "allocating the images");
  std::vector<float> host(count);
  try {
    render(cameras, options, out, nullptr);
    check(cudaMemcpy(host.data(), out, count * sizeof(float), cudaMemcpyDeviceToHost), "copying the images back");
  } catch (...) {
    cudaFree(out);
    throw;
  }
  cudaFree(out);
  return host;
}

}  // namespace xraylift::drr::cuda
