# ctest -P script: `xraylift render --device cuda` must exit 0 and write the views where a CUDA device is usable,
# and exit 3 (InputError, "no CUDA device") leaving nothing where none is. Decided when the test runs, from
# `xraylift version`, never at configure time: a build folder configured on a GPU-less machine must not fail on a
# GPU machine (or the reverse).
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
file(REMOVE_RECURSE "${OUT}")  # a view set of an earlier run must not pass for this one's
execute_process(COMMAND "${XRAYLIFT}" render "${CASE}" --device cuda --size 16 --out "${OUT}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "CUDA +(CUDA runtime|built without)[^\n]*" line "${version}")
if(NOT rc EQUAL expected)
  message(FATAL_ERROR "render --device cuda exited ${rc}, expected ${expected} (${line})\n${out}\n${err}")
endif()
if(expected EQUAL 0)
  if(NOT EXISTS "${OUT}/infos.json")
    message(FATAL_ERROR "render --device cuda exited 0 but wrote no ${OUT}/infos.json\n${out}\n${err}")
  endif()
  file(READ "${OUT}/infos.json" infos)
  string(JSON views LENGTH "${infos}" cams)
  string(JSON width GET "${infos}" cams 0 width)
  if(NOT views EQUAL 10 OR NOT width EQUAL 16)
    message(FATAL_ERROR "render --device cuda wrote ${views} views of width ${width}, expected 10 of 16")
  endif()
elseif(EXISTS "${OUT}")
  message(FATAL_ERROR "render --device cuda failed (as expected) but left ${OUT} behind")
endif()
message(STATUS "render --device cuda exited ${rc} as expected (${line})")
