#pragma once
// The plain-C++ boundary of the CUDA renderer: raw device pointers and POD structs, callable from .cpp files
// compiled without nvcc. Without CUDA in the build every entry throws InputError saying so.
//   - CudaVolume uploads an attenuation volume once (a float 3D texture with hardware trilinear filtering for the
//     marcher, and a linear global-memory copy for Siddon) and can render many rigs from it.
//   - One kernel launch covers all views (grid over views x pixels); rays are clipped to the volume box.
#include <cstdint>
#include <memory>
#include <vector>

#include "xraylift/core/hd_camera.hpp"
#include "xraylift/drr/ray_math.hpp"

namespace xraylift::drr::cuda {

struct KernelOptions {
  int integrator = 0;        // 0 Siddon, 1 trilinear (texture)
  float step_mm = 0.5f;      // trilinear step
};

bool available();  // built with CUDA and a device is present

// mu_device[n] = hu_to_mu(hu_device[n]) (ray_math.hpp) for n < count, on the device.
void attenuation_on_device(const float* hu_device, float* mu_device, std::size_t count, const AttenuationModel& model,
                           void* stream = nullptr);

class CudaVolume {
 public:
  // mu: nx*ny*nz floats, x fastest; on the host (host_pointer = true) or already on the device.
  CudaVolume(const float* mu, const GridF& grid, bool host_pointer);
  ~CudaVolume();
  CudaVolume(const CudaVolume&) = delete;
  CudaVolume& operator=(const CudaVolume&) = delete;

  const GridF& grid() const;
  // Renders views x height x width line integrals into out_device (a device buffer of that many floats).
  // All cameras must share width and height. stream: a cudaStream_t or nullptr for the default stream.
  void render(const std::vector<core::PinholeF>& cameras, const KernelOptions& options, float* out_device,
              void* stream = nullptr) const;
  // Convenience for tests and tools: renders into a host vector (allocates, copies back, synchronises).
  std::vector<float> render_to_host(const std::vector<core::PinholeF>& cameras, const KernelOptions& options) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xraylift::drr::cuda
