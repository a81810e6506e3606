# libtorch from the pinned torch wheel (scripts/setup.sh passes CMAKE_PREFIX_PATH=torch.utils.cmake_prefix_path).
# Only modules that need tensors link it; it is the slowest dependency to compile against.
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT DEFINED TORCH_CUDA_ARCH_LIST)
  set(ENV{TORCH_CUDA_ARCH_LIST} "9.0")  # configuring never needs a GPU
endif()
# Torch's CMake sets CMAKE_CUDA_ARCHITECTURES to OFF (it uses its own gencode flags); our kernels keep ours.
set(xraylift_cuda_architectures "${CMAKE_CUDA_ARCHITECTURES}")
find_package(Torch REQUIRED)
if(XRAYLIFT_CUDA)
  set(CMAKE_CUDA_ARCHITECTURES "${xraylift_cuda_architectures}")
  message(STATUS "xraylift: CUDA kernels for architectures ${CMAKE_CUDA_ARCHITECTURES}")
endif()
message(STATUS "xraylift: libtorch ${Torch_VERSION} from ${Torch_DIR}")
