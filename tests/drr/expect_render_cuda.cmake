# ctest -P script: `xraylift render --device cuda` must exit 0 where a CUDA device is usable and 3 (InputError,
# "no CUDA device") where none is. Decided when the test runs, from `xraylift version`, never at configure time:
# a build folder configured on a GPU-less machine must not fail on a GPU machine (or the reverse).
# Inputs: -DXRAYLIFT=<binary> -DCASE=<case folder> -DOUT=<output folder>.
execute_process(COMMAND "${XRAYLIFT}" version OUTPUT_VARIABLE version RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "xraylift version failed (${rc})")
endif()
if(version MATCHES "CUDA +CUDA runtime [0-9.]+, [1-9][0-9]* devices?")
  set(expected 0)
else()
  set(expected 3)
endif()
execute_process(COMMAND "${XRAYLIFT}" render "${CASE}" --device cuda --size 16 --out "${OUT}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "CUDA +(CUDA runtime|built without)[^\n]*" line "${version}")
if(NOT rc EQUAL expected)
  message(FATAL_ERROR "render --device cuda exited ${rc}, expected ${expected} (${line})\n${out}\n${err}")
endif()
message(STATUS "render --device cuda exited ${rc} as expected (${line})")
