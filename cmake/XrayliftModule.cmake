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

# The CLI tests: every `xraylift` command a test runs goes through one of the two helpers below, so a test passes only
# on the documented exit status and on what the command printed or wrote (docs/BUILDING.md "Tests").
# RANKS <n> (both helpers) runs the command as n data-parallel ranks through tests/train/run_ranks.sh.

# xraylift_cli_rejects(NAME <test> EXIT <code> MESSAGE <fragment> [RANKS <n>] ARGS <xraylift arguments...>)
#   A CLI test that passes only when `xraylift ARGS` exits with the documented status (2 usage/config error,
#   3 bad input data) and prints a message containing the fragment (cmake/expect_exit.cmake); with RANKS, every
#   rank must exit with that status and rank 0 print the fragment.
function(xraylift_cli_rejects)
  cmake_parse_arguments(R "" "NAME;EXIT;MESSAGE;RANKS" "ARGS" ${ARGN})
  if(NOT R_NAME OR NOT DEFINED R_EXIT OR NOT R_MESSAGE OR NOT R_ARGS)
    message(FATAL_ERROR "xraylift_cli_rejects: NAME, EXIT, MESSAGE and ARGS are required")
  endif()
  if(R_RANKS)
    add_test(NAME ${R_NAME}
             COMMAND ${PROJECT_SOURCE_DIR}/tests/train/run_ranks.sh ${R_RANKS} --expect-exit ${R_EXIT}
                     --expect-message "${R_MESSAGE}" -- $<TARGET_FILE:xraylift> ${R_ARGS})
  else()
    add_test(NAME ${R_NAME}
             COMMAND ${CMAKE_COMMAND} -DEXPECT_EXIT=${R_EXIT} "-DEXPECT_MESSAGE=${R_MESSAGE}"
                     -P ${PROJECT_SOURCE_DIR}/cmake/expect_exit.cmake -- $<TARGET_FILE:xraylift> ${R_ARGS})
  endif()
endfunction()

# xraylift_cli_runs(NAME <test> [CLEAN <path>...] [MESSAGES <fragment>...] [FILES <file>...] [ABSENT <path>...]
#                   [TEXT <file> <regex>...] [JSON <file> <key.path> <op> <value>...] [RANKS <n>]
#                   ARGS <xraylift arguments...>)
#   A CLI test of a successful run (cmake/expect_run.cmake): removes the CLEAN paths first (a stale output of an
#   earlier run must not pass), requires exit status 0, every MESSAGES fragment in stdout or stderr, every FILES
#   file present and not empty, no ABSENT path, every TEXT file matching its regex, and every JSON check: the value
#   at a dot-separated key path (array indices as numbers, `.` for the root) compared with ==, !=, <, <=, >, >=
#   (numbers; == and != also strings and true/false), ~ (regex) or len==, len>=, len<= (array, object or string
#   length). Fixtures and other properties are set by the caller (set_tests_properties).
#   FAILS_WITH <fragment> turns the test around, for the helper's own tests (tests/scripts): it passes only when
#   the checks fail with a report containing the fragment.
function(xraylift_cli_runs)
  cmake_parse_arguments(R "" "NAME;RANKS;FAILS_WITH" "CLEAN;MESSAGES;FILES;ABSENT;TEXT;JSON;ARGS" ${ARGN})
  if(NOT R_NAME OR NOT R_ARGS)
    message(FATAL_ERROR "xraylift_cli_runs: NAME and ARGS are required")
  endif()
  list(LENGTH R_TEXT text_n)
  list(LENGTH R_JSON json_n)
  math(EXPR text_odd "${text_n} % 2")
  math(EXPR json_rest "${json_n} % 4")
  if(text_odd OR json_rest)
    message(FATAL_ERROR "xraylift_cli_runs(${R_NAME}): TEXT takes <file> <regex> pairs and JSON <file> <key.path> "
                        "<op> <value> quadruples; got ${text_n} and ${json_n} values")
  endif()
  # The checks go to a file read by the script: a list argument of add_test would be split at its semicolons.
  set(spec "# xraylift_cli_runs(${R_NAME}), written by cmake/XrayliftModule.cmake\n")
  foreach(field CLEAN MESSAGES FILES ABSENT TEXT JSON)
    string(APPEND spec "set(${field}")
    foreach(value IN LISTS R_${field})
      string(APPEND spec " [==[${value}]==]")
    endforeach()
    string(APPEND spec ")\n")
  endforeach()
  set(spec_file "${CMAKE_CURRENT_BINARY_DIR}/cli_checks/${R_NAME}.cmake")
  file(WRITE "${spec_file}" "${spec}")
  set(launcher "")
  if(R_RANKS)
    set(launcher ${PROJECT_SOURCE_DIR}/tests/train/run_ranks.sh ${R_RANKS} --)
  endif()
  set(run ${CMAKE_COMMAND} -DSPEC=${spec_file} -P ${PROJECT_SOURCE_DIR}/cmake/expect_run.cmake --
      ${launcher} $<TARGET_FILE:xraylift> ${R_ARGS})
  if(R_FAILS_WITH)
    # cmake -P exits 1 on FATAL_ERROR.
    set(run ${CMAKE_COMMAND} -DEXPECT_EXIT=1 "-DEXPECT_MESSAGE=${R_FAILS_WITH}"
        -P ${PROJECT_SOURCE_DIR}/cmake/expect_exit.cmake -- ${run})
  endif()
  add_test(NAME ${R_NAME} COMMAND ${run})
endfunction()
