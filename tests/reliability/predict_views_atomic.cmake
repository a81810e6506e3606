# predict's <out>_views/<case>/ folders appear whole or not at all (docs/RELIABILITY.md "Interrupted runs"):
#   cmake -DXRAYLIFT=<xraylift> -DWORK=<scratch folder> -DCASE=<case folder> -DCONFIG=<yaml> -DWEIGHTS=<file>
#         -P predict_views_atomic.cmake
# The test-only hook of core's atomic writers (XRAYLIFT_TEST_FAIL_AFTER_FILES=1: the second file fails like a full
# disk) breaks the render of the case after its first view file. Catches predict rendering a case input straight
# into its final folder: the failure left <out>_views/<case>/ with one view and no infos.json (a later predict or
# train on that folder then failed or skipped it). The views folder exists beforehand (an earlier case), as after
# an earlier run, so that predict's own cleanup of a views folder it created cannot hide the half-written case.
# Also checks that predict removes a stale temporary a killed run left there, and that a rerun writes the folder.
foreach(var XRAYLIFT WORK CASE CONFIG WEIGHTS)
  if(NOT ${var})
    message(FATAL_ERROR "predict_views_atomic.cmake: -D${var}=... is required")
  endif()
endforeach()
get_filename_component(id "${CASE}" NAME)
set(views "${WORK}/case_views")
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${views}/earlier-case" "${views}/.${id}.tmp.4194305.0")  # pid 4194305 cannot run
file(WRITE "${views}/earlier-case/infos.json" "{}")
set(predict "${XRAYLIFT}" predict "${CASE}" --config "${CONFIG}" --weights "${WEIGHTS}" --method triangulate
    -o "${WORK}/case.json")

set(failures "")
execute_process(COMMAND ${CMAKE_COMMAND} -E env XRAYLIFT_TEST_FAIL_AFTER_FILES=1 ${predict} RESULT_VARIABLE rc
                OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
set(text "${stdout}${stderr}")
if(NOT rc EQUAL 3)
  list(APPEND failures "the failing run exited ${rc}, expected 3 (bad input data: a write failed)")
endif()
foreach(fragment "test-only failure injected after 1 file(s)" "removed 1 stale temporaries")
  string(FIND "${text}" "${fragment}" at)
  if(at EQUAL -1)
    list(APPEND failures "the failing run's output lacks '${fragment}'")
  endif()
endforeach()
file(GLOB entries LIST_DIRECTORIES true RELATIVE "${views}" "${views}/*" "${views}/.*")
list(REMOVE_ITEM entries . ..)
if(NOT "${entries}" STREQUAL "earlier-case")
  list(APPEND failures "${views} holds '${entries}' after the failure, expected only 'earlier-case' (no half case)")
endif()
foreach(file case.json case.detections2d.json)
  if(EXISTS "${WORK}/${file}")
    list(APPEND failures "${WORK}/${file} was written by the failing run")
  endif()
endforeach()
if(failures)
  set(failures ${failures} "---- output of the failing run ----\n${text}")
endif()

execute_process(COMMAND ${predict} RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
if(NOT rc EQUAL 0)
  list(APPEND failures "the rerun exited ${rc}, expected 0\n---- output ----\n${stdout}${stderr}")
endif()
foreach(file infos.json render_config.yaml view00.png view09.npy)
  if(NOT EXISTS "${views}/${id}/${file}")
    list(APPEND failures "the rerun did not write ${views}/${id}/${file}")
  endif()
endforeach()

if(failures)
  list(JOIN failures "\n  " listed)
  message(FATAL_ERROR "predict views folder failed its checks:\n  ${listed}")
endif()
message(STATUS "predict: a failure mid-case leaves no case folder; the rerun writes it whole")
