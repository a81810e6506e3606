#pragma once
// Whether CUDA kernels can run here. False when built without CUDA, without a driver, or without a GPU,
// so GPU tests skip cleanly on CI.
#include <string>

namespace xraylift::core {

bool built_with_cuda();
bool cuda_device_available();
std::string cuda_description();  // "CUDA 13.0, 1 device: NVIDIA H100 ..." or why there is none

}  // namespace xraylift::core
