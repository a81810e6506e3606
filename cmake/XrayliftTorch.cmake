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

# One precompiled <torch/torch.h> for every torch-heavy target (libraries, tests, benches, the CLI): compiling it costs
# 36-62 s per target, so it is built once and reused (docs/BUILDING.md "Build time"). GCC refuses a PCH in a compile
# with another code model (-fPIC vs -fPIE) or other macros, which is why every target compiles with the default code
# model (CMakeLists.txt) and gets its torch macros from xraylift::torch.
file(WRITE "${CMAKE_BINARY_DIR}/xraylift_torch_pch.cpp" "// the shared torch PCH's translation unit\n")
add_library(xraylift_torch_pch OBJECT "${CMAKE_BINARY_DIR}/xraylift_torch_pch.cpp")
target_link_libraries(xraylift_torch_pch PRIVATE xraylift_torch)
target_precompile_headers(xraylift_torch_pch PRIVATE <torch/torch.h>)
# The PCH is ~690 MB: loading it costs a torch-free file ~15 s, more than that file's whole compile, so only sources
# that include torch (directly, or through a detect2d/detect3d/train header or drr's tensor entry) use it.
function(xraylift_reuse_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM xraylift_torch_pch)
  get_target_property(sources ${target} SOURCES)
  get_target_property(dir ${target} SOURCE_DIR)
  foreach(source IN LISTS sources)
    if(NOT source MATCHES "\\.cpp$")
      continue()
    endif()
    cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${dir}" OUTPUT_VARIABLE path)
    if(NOT EXISTS "${path}")
      continue()
    endif()
    file(STRINGS "${path}" torch_includes REGEX
         "^#include [<\"](torch/|ATen/|c10/|xraylift/(detect2d|detect3d|train)/|xraylift/drr/render_tensor)")
    if(NOT torch_includes)
      set_source_files_properties("${path}" TARGET_DIRECTORY ${target} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()
