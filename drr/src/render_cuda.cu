// CUDA twin of the CPU renderer (render.cpp): same per-ray math (ray_math.hpp) in float precision.
//   - trilinear: the attenuation volume sits in a float (or binary16) 3D texture (cudaFilterModeLinear, clamp
//     addressing, unnormalised coordinates, so a cell coordinate g samples voxel centres at i + 0.5 exactly as the
//     CPU does);
//   - Siddon: the same volume as a linear global-memory array (an owned copy or the caller's buffer);
//   - rays are clipped to the support box computed once on the device (the CPU crops to the same box);
//   - cameras in the kernel parameter block (__grid_constant__), one launch per kMaxViewsPerLaunch views: blocks of
//     16 x 16 pixels, gridDim.z = views. Nothing is allocated, copied or synchronised per render.
// Never run on a GPU in this repository's CI; docs/drr.md lists what is unverified.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

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

// Makes `device` current for a scope and restores the caller's device after (a volume may live on device 1
// while the caller's current device is 0). The destructor never throws.
class DeviceScope {
 public:
  explicit DeviceScope(int device) : target_(device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = device;
    if (previous_ != device) check(cudaSetDevice(device), "selecting the volume's device");
  }
  ~DeviceScope() {
    if (previous_ != target_) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0, target_ = 0;
};

__device__ __forceinline__ size_t pixel_index(int view, int row, int col, int width, int height) {
  return (static_cast<size_t>(view) * height + row) * width + col;
}

// One thread per pixel of one view (blockIdx.z): the pixel-centre ray clipped to the support box, integrated by
// `integrate(ray, a0, a1)`; rays that miss the box read 0.
template <typename Integrate>
__device__ __forceinline__ void render_pixel(const int* __restrict__ support, const GridF& grid,
                                             const CameraBlock& cams, int width, int height, float* __restrict__ out,
                                             Integrate&& integrate) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  const int view = blockIdx.z;
  if (col >= width || row >= height) return;
  const RayT<float> ray = camera_ray<float>(cams.cams[view], col + 0.5f, row + 0.5f);
  const int lo[3] = {support[0], support[1], support[2]}, hi[3] = {support[3], support[4], support[5]};
  float a0, a1, value = 0.0f;
  if (clip_ray_to_cells(ray, grid, lo, hi, a0, a1)) value = integrate(ray, a0, a1);
  out[pixel_index(view, row, col, width, height)] = value;
}

__global__ void siddon_kernel(const float* __restrict__ mu, GridF grid, const int* __restrict__ support,
                              const __grid_constant__ CameraBlock cams, int width, int height,
                              float* __restrict__ out) {
  render_pixel(support, grid, cams, width, height, out,
               [&](const RayT<float>& ray, float a0, float a1) { return siddon_integral(mu, ray, grid, a0, a1); });
}

__global__ void trilinear_kernel(cudaTextureObject_t tex, GridF grid, const int* __restrict__ support,
                                 const __grid_constant__ CameraBlock cams, int width, int height, float step_mm,
                                 float* __restrict__ out) {
  render_pixel(support, grid, cams, width, height, out, [&](const RayT<float>& ray, float a0, float a1) {
    return march_integral(ray, grid, a0, a1, step_mm,
                          [&](float gx, float gy, float gz) { return tex3D<float>(tex, gx, gy, gz); });
  });
}

__global__ void attenuation_kernel(const float* __restrict__ hu, float* __restrict__ mu, size_t count,
                                   AttenuationModel model, unsigned long long* first_bad) {
  const size_t n = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n >= count) return;
  const float v = hu[n];
  if (!isfinite(v)) {
    atomicMin(first_bad, static_cast<unsigned long long>(n));
    mu[n] = 0.0f;
    return;
  }
  mu[n] = hu_to_mu(v, model);
}

__global__ void to_half_kernel(const float* __restrict__ in, __half* __restrict__ out, size_t count) {
  const size_t n = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n < count) out[n] = __float2half_rn(round_to_half(in[n]));  // already representable: exact
}

// Support box: per-axis min and max index of the voxels with mu > 0 (the CPU rule, render.cpp crop_to_support).
// s[0..2] = min (init n), s[3..5] = max (init -1).
__global__ void support_init_kernel(int* s, int nx, int ny, int nz, int whole) {
  if (whole) {
    s[0] = s[1] = s[2] = 0;
    s[3] = nx - 1;
    s[4] = ny - 1;
    s[5] = nz - 1;
  } else {
    s[0] = nx;
    s[1] = ny;
    s[2] = nz;
    s[3] = s[4] = s[5] = -1;
  }
}

__device__ __forceinline__ int warp_min(int v) {
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ int warp_max(int v) {
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}

__global__ void support_scan_kernel(const float* __restrict__ mu, int nx, int ny, int nz, int* s) {
  int lo[3] = {nx, ny, nz}, hi[3] = {-1, -1, -1};
  const size_t count = static_cast<size_t>(nx) * ny * nz;
  const size_t stride = static_cast<size_t>(blockDim.x) * gridDim.x;
  for (size_t n = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < count; n += stride) {
    if (!(mu[n] > 0.0f)) continue;
    const int i = static_cast<int>(n % nx), j = static_cast<int>((n / nx) % ny), k = static_cast<int>(n / nx / ny);
    lo[0] = min(lo[0], i), lo[1] = min(lo[1], j), lo[2] = min(lo[2], k);
    hi[0] = max(hi[0], i), hi[1] = max(hi[1], j), hi[2] = max(hi[2], k);
  }
  // Every lane reaches here (blockDim is a multiple of 32), so full-mask shuffles are safe.
  for (int a = 0; a < 3; ++a) {
    lo[a] = warp_min(lo[a]);
    hi[a] = warp_max(hi[a]);
  }
  if ((threadIdx.x & 31) == 0 && hi[0] >= 0) {
    for (int a = 0; a < 3; ++a) {
      atomicMin(s + a, lo[a]);
      atomicMax(s + 3 + a, hi[a]);
    }
  }
}

// Min/max indices -> the cell box [lo, hi) with one voxel of margin, clamped to the grid (empty when all air).
__global__ void support_finish_kernel(int* s, int nx, int ny, int nz) {
  const int n[3] = {nx, ny, nz};
  if (s[3] < 0) {
    for (int a = 0; a < 6; ++a) s[a] = 0;
    return;
  }
  for (int a = 0; a < 3; ++a) {
    s[a] = max(s[a] - 1, 0);
    s[3 + a] = min(s[3 + a] + 2, n[a]);
  }
}

unsigned blocks_for(size_t count, unsigned threads) { return static_cast<unsigned>((count + threads - 1) / threads); }

}  // namespace

long long attenuation_on_device(const float* hu_device, float* mu_device, std::size_t count,
                                const AttenuationModel& model, void* stream_ptr) {
  if (count == 0) return -1;
  XL_CHECK(hu_device != nullptr && mu_device != nullptr, "drr cuda: attenuation_on_device got a null pointer");
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  unsigned long long* first_bad = nullptr;
  check(cudaMallocAsync(reinterpret_cast<void**>(&first_bad), sizeof(unsigned long long), stream),
        "allocating the non-finite flag");
  unsigned long long host = ~0ull;
  try {
    check(cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), stream), "clearing the non-finite flag");
    const unsigned threads = 256;
    attenuation_kernel<<<blocks_for(count, threads), threads, 0, stream>>>(hu_device, mu_device, count, model,
                                                                           first_bad);
    check(cudaGetLastError(), "launching the attenuation kernel");
    check(cudaMemcpyAsync(&host, first_bad, sizeof host, cudaMemcpyDeviceToHost, stream),
          "reading the non-finite flag");
    check(cudaStreamSynchronize(stream), "converting HU to attenuation");
  } catch (...) {
    cudaFreeAsync(first_bad, stream);
    throw;
  }
  cudaFreeAsync(first_bad, stream);
  return host == ~0ull ? -1 : static_cast<long long>(host);
}

struct CudaVolume::Impl {
  GridF grid{};
  VolumeOptions options;
  int device = 0;
  float* linear = nullptr;  // x-fastest volume for Siddon
  bool owns_linear = false;
  cudaArray_t array = nullptr;
  cudaTextureObject_t texture = 0;
  int* support = nullptr;       // 6 ints: cell box [lo, hi)
  cudaEvent_t ready = nullptr;  // the construction work queued on its stream
  // Streams that rendered from this volume and an event after their last render: the destructor waits on them,
  // so no texture, array or buffer is freed under a running kernel.
  mutable std::mutex mutex;
  mutable std::vector<std::pair<cudaStream_t, cudaEvent_t>> in_flight;

  ~Impl() {
    int previous = device;
    cudaGetDevice(&previous);
    if (previous != device) cudaSetDevice(device);
    for (auto& use : in_flight) {
      cudaEventSynchronize(use.second);
      cudaEventDestroy(use.second);
    }
    if (ready) {
      cudaEventSynchronize(ready);
      cudaEventDestroy(ready);
    }
    if (texture) cudaDestroyTextureObject(texture);
    if (array) cudaFreeArray(array);
    if (linear && owns_linear) cudaFree(linear);
    if (support) cudaFree(support);
    if (previous != device) cudaSetDevice(previous);
  }
};

bool available() { return core::cuda_device_available(); }

CudaVolume::CudaVolume(const float* mu, const GridF& grid, bool host_pointer, const VolumeOptions& options,
                       void* stream_ptr, bool borrow)
    : impl_(std::make_unique<Impl>()) {
  XL_CHECK(mu != nullptr, "drr cuda: the volume pointer is null");
  XL_CHECK(grid.nx > 0 && grid.ny > 0 && grid.nz > 0, "drr cuda: volume dims (", grid.nx, ", ", grid.ny, ", ", grid.nz,
           ") must all be >= 1");
  XL_CHECK(options.siddon || options.trilinear, "drr cuda: a volume needs Siddon or trilinear data (both off)");
  XL_CHECK(!(borrow && host_pointer), "drr cuda: only a device pointer can be borrowed");
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  impl_->grid = grid;
  impl_->options = options;
  check(cudaGetDevice(&impl_->device), "querying the current device");
  const size_t count = static_cast<size_t>(grid.nx) * grid.ny * grid.nz;

  // The linear volume: borrowed, or an owned copy (kept for Siddon, else only the source of the texture).
  if (borrow) {
    impl_->linear = const_cast<float*>(mu);
  } else {
    check(cudaMalloc(&impl_->linear, count * sizeof(float)), "allocating the volume");
    impl_->owns_linear = true;
    check(cudaMemcpyAsync(impl_->linear, mu, count * sizeof(float),
                          host_pointer ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToDevice, stream),
          "copying the volume");
  }

  check(cudaMalloc(&impl_->support, 6 * sizeof(int)), "allocating the support box");
  support_init_kernel<<<1, 1, 0, stream>>>(impl_->support, grid.nx, grid.ny, grid.nz, options.crop_to_support ? 0 : 1);
  if (options.crop_to_support) {
    const unsigned threads = 256;
    const unsigned blocks = std::min<unsigned>(blocks_for(count, threads), 4096);
    support_scan_kernel<<<blocks, threads, 0, stream>>>(impl_->linear, grid.nx, grid.ny, grid.nz, impl_->support);
  }
  support_finish_kernel<<<1, 1, 0, stream>>>(impl_->support, grid.nx, grid.ny, grid.nz);
  check(cudaGetLastError(), "launching the support-box kernels");

  if (options.trilinear) {
    const cudaChannelFormatDesc desc =
        options.half_texture ? cudaCreateChannelDescHalf() : cudaCreateChannelDesc<float>();
    const cudaExtent extent = make_cudaExtent(grid.nx, grid.ny, grid.nz);
    check(cudaMalloc3DArray(&impl_->array, &desc, extent), "allocating the 3D texture array");
    __half* half_copy = nullptr;
    cudaMemcpy3DParms copy{};
    if (options.half_texture) {
      check(cudaMallocAsync(reinterpret_cast<void**>(&half_copy), count * sizeof(__half), stream),
            "allocating the half-precision staging copy");
      to_half_kernel<<<blocks_for(count, 256), 256, 0, stream>>>(impl_->linear, half_copy, count);
      check(cudaGetLastError(), "launching the half conversion");
      copy.srcPtr = make_cudaPitchedPtr(half_copy, grid.nx * sizeof(__half), grid.nx, grid.ny);
    } else {
      copy.srcPtr = make_cudaPitchedPtr(impl_->linear, grid.nx * sizeof(float), grid.nx, grid.ny);
    }
    copy.dstArray = impl_->array;
    copy.extent = extent;
    copy.kind = cudaMemcpyDeviceToDevice;
    const cudaError_t copied = cudaMemcpy3DAsync(&copy, stream);
    if (half_copy) cudaFreeAsync(half_copy, stream);  // stream-ordered: freed after the copy
    check(copied, "filling the 3D texture array");

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
  if (!options.siddon && impl_->owns_linear) {
    // Only the texture's source: the support scan and the array copy must finish before it goes.
    check(cudaStreamSynchronize(stream), "building the texture");
    cudaFree(impl_->linear);
    impl_->linear = nullptr;
    impl_->owns_linear = false;
  }
  check(cudaEventCreateWithFlags(&impl_->ready, cudaEventDisableTiming), "creating the ready event");
  check(cudaEventRecord(impl_->ready, stream), "recording the ready event");
}

CudaVolume::~CudaVolume() = default;

const GridF& CudaVolume::grid() const { return impl_->grid; }
const VolumeOptions& CudaVolume::options() const { return impl_->options; }
int CudaVolume::device() const { return impl_->device; }

void CudaVolume::support_cells(int lo[3], int hi[3]) const {
  DeviceScope scope(impl_->device);
  check(cudaEventSynchronize(impl_->ready), "waiting for the volume");
  int s[6];
  check(cudaMemcpy(s, impl_->support, sizeof s, cudaMemcpyDeviceToHost), "reading the support box");
  for (int a = 0; a < 3; ++a) {
    lo[a] = s[a];
    hi[a] = s[3 + a];
  }
}

void CudaVolume::render(const std::vector<core::PinholeF>& cameras, const KernelOptions& options, float* out_device,
                        void* stream_ptr) const {
  XL_CHECK(!cameras.empty(), "drr cuda: no cameras");
  XL_CHECK(out_device != nullptr, "drr cuda: the output pointer is null");
  const bool siddon = options.integrator == Integrator::kSiddon;
  XL_CHECK(siddon || options.integrator == Integrator::kTrilinear, "drr cuda: integrator ",
           static_cast<int>(options.integrator), " is unknown; expected Siddon or trilinear");
  XL_CHECK(std::isfinite(options.step_mm) && options.step_mm > 0, "drr cuda: step_mm = ", options.step_mm,
           ", expected a finite value > 0");
  XL_CHECK(!siddon || impl_->linear != nullptr,
           "drr cuda: Siddon asked for, but this volume was built without its linear copy (VolumeOptions::siddon)");
  XL_CHECK(siddon || impl_->texture != 0,
           "drr cuda: trilinear asked for, but this volume was built without a texture (VolumeOptions::trilinear)");
  const int width = cameras[0].width, height = cameras[0].height;
  XL_CHECK(width > 0 && height > 0, "drr cuda: image size ", width, " x ", height, " must be positive");
  for (const auto& c : cameras)
    XL_CHECK(c.width == width && c.height == height, "drr cuda: all cameras must share one image size");
  DeviceScope scope(impl_->device);
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  check(cudaStreamWaitEvent(stream, impl_->ready, 0), "waiting for the volume upload");
  const dim3 block(16, 16, 1);
  const size_t view_pixels = static_cast<size_t>(width) * height;
  for (size_t first = 0; first < cameras.size(); first += kMaxViewsPerLaunch) {
    CameraBlock cams{};
    cams.count = static_cast<int>(std::min<size_t>(kMaxViewsPerLaunch, cameras.size() - first));
    for (int v = 0; v < cams.count; ++v) cams.cams[v] = cameras[first + v];
    const dim3 blocks((width + block.x - 1) / block.x, (height + block.y - 1) / block.y,
                      static_cast<unsigned>(cams.count));
    float* out = out_device + first * view_pixels;
    if (siddon) {
      siddon_kernel<<<blocks, block, 0, stream>>>(impl_->linear, impl_->grid, impl_->support, cams, width, height, out);
    } else {
      trilinear_kernel<<<blocks, block, 0, stream>>>(impl_->texture, impl_->grid, impl_->support, cams, width, height,
                                                     options.step_mm, out);
    }
    check(cudaGetLastError(), "launching the DRR kernel");
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto use =
      std::find_if(impl_->in_flight.begin(), impl_->in_flight.end(), [&](const auto& u) { return u.first == stream; });
  if (use == impl_->in_flight.end()) {
    cudaEvent_t event = nullptr;
    check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "creating a render event");
    impl_->in_flight.emplace_back(stream, event);
    use = impl_->in_flight.end() - 1;
  }
  check(cudaEventRecord(use->second, stream), "recording the render event");
}

std::vector<float> CudaVolume::render_to_host(const std::vector<core::PinholeF>& cameras,
                                              const KernelOptions& options) const {
  XL_CHECK(!cameras.empty(), "drr cuda: no cameras");
  const size_t count = cameras.size() * static_cast<size_t>(cameras[0].width) * cameras[0].height;
  DeviceScope scope(impl_->device);
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
