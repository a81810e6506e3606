# Runs a command and checks that it fails the documented way (README: 2 usage/config error, 3 bad input data):
#   cmake -DEXPECT_EXIT=<code> -DEXPECT_MESSAGE=<fragment> -P expect_exit.cmake -- <command> [args...]
# Passes when the exit status is exactly EXPECT_EXIT and the fragment appears in stdout or stderr.
set(cmd "")
set(after_separator OFF)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 0 ${last})
  if(after_separator)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(after_separator ON)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "expect_exit.cmake: no command after --")
endif()
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(FIND "${out}${err}" "${EXPECT_MESSAGE}" found)
if(NOT "${rc}" STREQUAL "${EXPECT_EXIT}" OR found EQUAL -1)
  message("---- stdout ----\n${out}\n---- stderr ----\n${err}")
  message(FATAL_ERROR "expected exit status ${EXPECT_EXIT} and a message containing '${EXPECT_MESSAGE}'; "
                      "got exit status ${rc}")
endif()
message(STATUS "exit status ${rc} as documented; message contains '${EXPECT_MESSAGE}'")
