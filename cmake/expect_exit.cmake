# Runs a command and checks that it fails the documented way (README: 2 usage/config error, 3 bad input data):
#   cmake -DEXPECT_EXIT=<code> -DEXPECT_MESSAGE=<fragment> -P expect_exit.cmake -- <command> [args...]
# Passes when the exit status is exactly EXPECT_EXIT and the fragment appears in stdout or stderr.
include("${CMAKE_CURRENT_LIST_DIR}/command_after_separator.cmake")
command_after_separator(expect_exit.cmake)
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(FIND "${out}${err}" "${EXPECT_MESSAGE}" found)
if(NOT "${rc}" STREQUAL "${EXPECT_EXIT}" OR found EQUAL -1)
  message("---- stdout ----\n${out}\n---- stderr ----\n${err}")
  message(FATAL_ERROR "expected exit status ${EXPECT_EXIT} and a message containing '${EXPECT_MESSAGE}'; "
                      "got exit status ${rc}")
endif()
message(STATUS "exit status ${rc} as documented; message contains '${EXPECT_MESSAGE}'")
