#pragma once
// The plain-C++ boundary of the CUDA renderer: raw device pointers and POD structs, callable from .cpp files
// compiled without nvcc. Without CUDA in the build every entry throws InputError saying so.
//   - CudaVolume keeps an attenuation volume resident on one device: a linear global-memory copy for Siddon (or
//     the caller's own device buffer, borrowed), a float or half 3D texture with hardware trilinear filtering for
//     the marcher, and the support box (voxels with mu > 0 plus one voxel) that every ray is clipped to, as the
//     CPU crops its volume (docs/drr.md, "GPU path").
//   - render() is asynchronous on the caller's stream: the cameras travel in the kernel's parameter block
//     (__grid_constant__, up to kMaxViewsPerLaunch views per launch), so it allocates nothing, copies nothing,
//     never synchronises and mutates nothing: concurrent renders on several streams are safe.
//   - The destructor waits for every render still in flight (one event per stream used) before it frees.
#include <cstdint>
#include <memory>
#include <vector>

#include "xraylift/core/hd_camera.hpp"
#include "xraylift/drr/integrator.hpp"
#include "xraylift/drr/ray_math.hpp"

namespace xraylift::drr::cuda {

// Views per kernel launch: 32 cameras of 84 bytes fit the 4 KiB kernel parameter block with room to spare.
constexpr int kMaxViewsPerLaunch = 32;

// The cameras of one launch, passed by value as a __grid_constant__ parameter (constant bank, broadcast reads).
struct CameraBlock {
  core::PinholeF cams[kMaxViewsPerLaunch];
  int count;
};
static_assert(sizeof(CameraBlock) + 256 <= 4096, "the cameras and the other kernel arguments must fit 4 KiB");

struct KernelOptions {
  Integrator integrator = Integrator::kSiddon;  // trilinear: the 3D texture
  float step_mm = 0.5f;                         // trilinear step
};

struct VolumeOptions {
  bool siddon = true;           // keep the linear copy Siddon reads
  bool trilinear = true;        // build the 3D texture the marcher reads
  bool half_texture = false;    // store the texture in binary16 (round_to_half in ray_math.hpp): half the memory
  bool crop_to_support = true;  // clip rays to the support box (false: to the whole volume box)
};

bool available();  // built with CUDA and a device is present

// mu_device[n] = hu_to_mu(hu_device[n]) (ray_math.hpp) for n < count, on the device; non-finite HU become 0.
// Returns the linear index of the first non-finite HU, or -1. Synchronises `stream` to learn it (the one host
// synchronisation of a per-call render; a resident volume pays it once).
long long attenuation_on_device(const float* hu_device, float* mu_device, std::size_t count,
                                const AttenuationModel& model, void* stream = nullptr);

class CudaVolume {
 public:
  // mu: nx*ny*nz floats, x fastest, on the host (host_pointer = true) or on the current device. With
  // borrow_device_pointer (device mu only) Siddon reads mu itself instead of a copy: the caller keeps it alive and
  // unchanged while this volume lives. The work is queued on `stream` (nullptr: the legacy default stream);
  // renders on other streams wait for it through an event, not the host.
  CudaVolume(const float* mu, const GridF& grid, bool host_pointer, const VolumeOptions& options = {},
             void* stream = nullptr, bool borrow_device_pointer = false);
  ~CudaVolume();
  CudaVolume(const CudaVolume&) = delete;
  CudaVolume& operator=(const CudaVolume&) = delete;

  const GridF& grid() const;
  const VolumeOptions& options() const;
  int device() const;  // the CUDA device the volume lives on (renders switch to it and back)
  // The support box in cells [lo, hi) (lo >= hi on an axis when the volume is all air). Synchronises; for tests.
  void support_cells(int lo[3], int hi[3]) const;
  // Renders views x height x width line integrals into out_device (a buffer of that many floats on device()).
  // All cameras must share width and height. stream: a cudaStream_t, or nullptr for the legacy default stream.
  void render(const std::vector<core::PinholeF>& cameras, const KernelOptions& options, float* out_device,
              void* stream = nullptr) const;
  // Convenience for tests and tools: renders into a host vector (allocates, copies back, synchronises).
  std::vector<float> render_to_host(const std::vector<core::PinholeF>& cameras, const KernelOptions& options) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xraylift::drr::cuda
