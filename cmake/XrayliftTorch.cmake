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
include(torch_include_regex)
# The PCH is ~690 MB: loading it costs a torch-free file ~15 s, more than that file's whole compile, so only sources
# that include torch (directly, or through a detect2d/detect3d/train header or drr's tensor entry) use it.
# With XRAYLIFT_UNITY those torch sources are also compiled as unity builds (xraylift_torch_unity below).
function(xraylift_reuse_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM xraylift_torch_pch)
  get_target_property(sources ${target} SOURCES)
  get_target_property(dir ${target} SOURCE_DIR)
  set(torch_sources)
  foreach(source IN LISTS sources)
    if(NOT source MATCHES "\\.cpp$")
      continue()
    endif()
    cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${dir}" OUTPUT_VARIABLE path)
    if(NOT EXISTS "${path}")
      continue()
    endif()
    file(STRINGS "${path}" torch_includes REGEX "${XRAYLIFT_TORCH_INCLUDE_REGEX}")
    if(torch_includes)
      list(APPEND torch_sources "${path}")
    else()
      set_source_files_properties("${path}" TARGET_DIRECTORY ${target} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
  xraylift_torch_unity(${target} ${torch_sources})
endfunction()

# Unity builds of the torch sources (docs/BUILDING.md "Build time"): every torch translation unit loads the 690 MB
# PCH (4-6 s) and instantiates and optimizes the same torch inline templates again, so the torch sources of a target
# are compiled as ceil(n / XRAYLIFT_UNITY_BATCH_SIZE) unity files of about equal size (UNITY_BUILD_MODE GROUP with
# groups computed here, in source order, so a new file joins a group by itself). Torch-free sources of the target
# get no group: they compile alone and without the PCH. Sources with their own COMPILE_OPTIONS,
# COMPILE_DEFINITIONS or INCLUDE_DIRECTORIES (the NCCL/Gloo backends) are left out by CMake, CUDA files are not
# C++. Files in one unity file share one scope: a name in an anonymous namespace or a file-level static must not
# repeat between the files of a target (each torch command keeps its Options and setup in a namespace named after
# the command, e.g. demo_command). XRAYLIFT_UNITY=OFF compiles every file alone.
option(XRAYLIFT_UNITY "Compile the torch sources of each target as a few unity files" ON)
set(XRAYLIFT_UNITY_BATCH_SIZE 8 CACHE STRING "Most torch sources per unity file (XRAYLIFT_UNITY)")
if(NOT XRAYLIFT_UNITY_BATCH_SIZE MATCHES "^[1-9][0-9]*$")
  message(FATAL_ERROR "XRAYLIFT_UNITY_BATCH_SIZE is '${XRAYLIFT_UNITY_BATCH_SIZE}': expected a positive whole number "
                      "(the most torch sources per unity file; -DXRAYLIFT_UNITY=OFF turns unity builds off)")
endif()
function(xraylift_torch_unity target)
  set(sources ${ARGN})
  list(LENGTH sources n)
  if(NOT XRAYLIFT_UNITY OR n LESS 2)
    return()
  endif()
  math(EXPR groups "(${n} + ${XRAYLIFT_UNITY_BATCH_SIZE} - 1) / ${XRAYLIFT_UNITY_BATCH_SIZE}")
  set(i 0)
  foreach(path IN LISTS sources)
    math(EXPR group "${i} * ${groups} / ${n}")
    set_source_files_properties("${path}" TARGET_DIRECTORY ${target} PROPERTIES UNITY_GROUP "torch${group}")
    math(EXPR i "${i} + 1")
  endforeach()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE GROUP)
  # GCC warns about a class with external linkage holding a member of an anonymous-namespace type when the class is
  # not in the main file (detect2d's RPNImpl holds an RPNHead): in a unity file every source is an included file.
  target_compile_options(${target} PRIVATE $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-subobject-linkage>)
endfunction()
