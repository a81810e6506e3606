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

# xraylift::torch: what every torch-using target links. libtorch.so and libtorch_cpu.so export a bundled copy of
# std::filesystem built against other libstdc++ headers; when they precede libstdc++ in the lookup order our
# calls bind to it and std::filesystem::remove_all crashes. Putting libstdc++ first among the NEEDED libraries
# makes every std:: symbol resolve to the system libstdc++ our code was compiled against.
add_library(xraylift_torch INTERFACE)
add_library(xraylift::torch ALIAS xraylift_torch)
target_link_libraries(xraylift_torch INTERFACE ${TORCH_LIBRARIES})
target_link_options(xraylift_torch INTERFACE "SHELL:-Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state")
