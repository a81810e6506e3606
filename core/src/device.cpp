#include "xraylift/core/device.hpp"

#ifdef XRAYLIFT_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

#include "xraylift/core/error.hpp"

namespace xraylift::core {

bool built_with_cuda() {
#ifdef XRAYLIFT_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_device_available() {
#ifdef XRAYLIFT_WITH_CUDA
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return n > 0;
#else
  return false;
#endif
}

std::string cuda_description() {
#ifdef XRAYLIFT_WITH_CUDA
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  std::string out = cat("CUDA runtime ", runtime / 1000, ".", (runtime % 1000) / 10);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return out + ", no usable device (" + cudaGetErrorString(err) + ")";
  }
  out += cat(", ", n, " device", n == 1 ? "" : "s");
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) == cudaSuccess)
      out += cat(i ? "; " : ": ", p.name, " (sm_", p.major, p.minor, ")");
  }
  return out;
#else
  return "built without CUDA";
#endif
}

}  // namespace xraylift::core
