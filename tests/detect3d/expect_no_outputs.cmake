# Passes when DIR holds no files (rejected commands must leave no partial outputs): cmake -DDIR=... -P this.
file(GLOB_RECURSE left "${DIR}/*")
if(left)
  message(FATAL_ERROR "rejected commands left outputs behind: ${left}")
endif()
message(STATUS "nothing left in ${DIR}")
