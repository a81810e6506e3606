# libtorch from the pinned torch wheel (scripts/setup.sh passes CMAKE_PREFIX_PATH=torch.utils.cmake_prefix_path).
# Only modules that need tensors link it; it is the slowest dependency to compile against.
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT DEFINED TORCH_CUDA_ARCH_LIST)
  set(ENV{TORCH_CUDA_ARCH_LIST} "9.0")
endif()
find_package(Torch REQUIRED)
message(STATUS "xraylift: libtorch ${Torch_VERSION} from ${Torch_DIR}")
