# xraylift_module(NAME <name> [DEPS ...] [CUDA_SOURCES ...] [TORCH])
#   One library per top-level folder: <name>/src/*.cpp, public headers in <name>/include/xraylift/<name>/.
#   CUDA_SOURCES are compiled only when XRAYLIFT_CUDA is on; every kernel has a CPU twin that CI tests.
function(xraylift_module)
  cmake_parse_arguments(M "TORCH" "NAME" "DEPS;CUDA_SOURCES;SOURCES" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp")
  list(APPEND srcs ${M_SOURCES})
  if(XRAYLIFT_CUDA)
    list(APPEND srcs ${M_CUDA_SOURCES})
  endif()
  add_library(xraylift_${M_NAME} ${srcs})
  add_library(xraylift::${M_NAME} ALIAS xraylift_${M_NAME})
  target_include_directories(xraylift_${M_NAME} PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/include"
                                                PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/src")
  target_link_libraries(xraylift_${M_NAME} PUBLIC ${M_DEPS})
  target_compile_options(xraylift_${M_NAME} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
  if(XRAYLIFT_CUDA)
    target_compile_definitions(xraylift_${M_NAME} PUBLIC XRAYLIFT_WITH_CUDA=1)
    set_target_properties(xraylift_${M_NAME} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
    target_compile_options(xraylift_${M_NAME} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>)
  endif()
  if(M_TORCH)
    target_link_libraries(xraylift_${M_NAME} PUBLIC xraylift::torch)
    xraylift_reuse_torch_pch(xraylift_${M_NAME})
  endif()
endfunction()

# xraylift_test(NAME <name> SOURCES ... DEPS ...): one GoogleTest executable, registered with ctest.
# xraylift::testing knows the source and ../shared folders (tests that need ../shared GTEST_SKIP without it).
function(xraylift_test)
  cmake_parse_arguments(T "TORCH" "NAME;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} xraylift::testing GTest::gtest GTest::gmock)
  # Test code is assertions around library calls (compiled -O3 in the libraries): -O1 compiles it ~30 % faster
  # (docs/BUILDING.md "Build time").
  target_compile_options(${T_NAME} PRIVATE $<$<CONFIG:Release>:-O1>)
  if(T_TORCH)
    target_link_libraries(${T_NAME} PRIVATE xraylift::torch)
    xraylift_reuse_torch_pch(${T_NAME})
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set(props TIMEOUT ${T_TIMEOUT})
  if(T_LABELS)
    list(APPEND props LABELS "${T_LABELS}")
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()

# xraylift_cli_rejects(NAME <test> EXIT <code> MESSAGE <fragment> ARGS <xraylift arguments...>)
#   A CLI test that passes only when `xraylift ARGS` exits with the documented status (2 usage/config error,
#   3 bad input data) and prints a message containing the fragment (cmake/expect_exit.cmake).
function(xraylift_cli_rejects)
  cmake_parse_arguments(R "" "NAME;EXIT;MESSAGE" "ARGS" ${ARGN})
  if(NOT R_NAME OR NOT DEFINED R_EXIT OR NOT R_MESSAGE OR NOT R_ARGS)
    message(FATAL_ERROR "xraylift_cli_rejects: NAME, EXIT, MESSAGE and ARGS are required")
  endif()
  add_test(NAME ${R_NAME}
           COMMAND ${CMAKE_COMMAND} -DEXPECT_EXIT=${R_EXIT} "-DEXPECT_MESSAGE=${R_MESSAGE}"
                   -P ${PROJECT_SOURCE_DIR}/cmake/expect_exit.cmake -- $<TARGET_FILE:xraylift> ${R_ARGS})
endfunction()
