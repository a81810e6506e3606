# Passes when DIR does not exist: the rejected commands that wrote under it must leave no partial outputs, not even
# an empty folder. The test that runs this requires a fixture whose setup removes DIR and whose rejections all
# run before it (tests/detect3d/CMakeLists.txt). Usage: cmake -DDIR=... -P expect_no_outputs.cmake
if(NOT DIR)
  message(FATAL_ERROR "expect_no_outputs.cmake: -DDIR=<folder> is required")
endif()
if(EXISTS "${DIR}")
  file(GLOB_RECURSE left LIST_DIRECTORIES true "${DIR}/*")
  if(NOT left)
    set(left "${DIR} (an empty folder)")
  endif()
  list(JOIN left "\n  " listed)
  message(FATAL_ERROR "rejected commands left outputs behind:\n  ${listed}")
endif()
message(STATUS "nothing left in ${DIR}")
