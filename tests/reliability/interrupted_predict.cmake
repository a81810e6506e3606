# `xraylift predict` interrupted by a real SIGINT (docs/RELIABILITY.md "Interrupted runs"), then rerun:
#   cmake -DXRAYLIFT=<xraylift> -DWORK=<scratch folder> -DCASES=<case folder;case folder> -DCONFIG=<yaml>
#         -DWEIGHTS=<file> -P interrupted_predict.cmake
# Two case inputs (each rendered in its unit into <out>_views/<case>/), with --eval. The signal is raised by the
# process itself through the test-only hook of core::for_each_unit (XRAYLIFT_TEST_SIGINT_DURING_UNIT=K: SIGINT just
# before unit K starts), so it arrives at a known case without sleeps or timing. Catches:
#   - an interrupt during a case, or during the last one, that ends in exit 0 (before, predict's loop checked only
#     before each case: a Ctrl-C during the last case was noticed after it, and one during writing was not at all);
#   - a message that does not say how many cases finished, or that an eval was not run;
#   - a predictions file, 2D detections, overlays, eval or scene written for part of the set (it would pass for the
#     whole set, and an eval of it would score a partial set as if complete), or a temporary left;
#   - a finished case's views folder that is removed or incomplete, an unfinished one that appears;
#   - a rerun that renders the finished cases again or does not complete the run.
foreach(var XRAYLIFT WORK CASES CONFIG WEIGHTS)
  if(NOT ${var})
    message(FATAL_ERROR "interrupted_predict.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(ids "")
foreach(c IN LISTS CASES)
  get_filename_component(id "${c}" NAME)
  list(APPEND ids ${id})
endforeach()
list(GET ids 0 first)
list(GET CASES 0 first_case)
set(common --config "${CONFIG}" --weights "${WEIGHTS}" --method triangulate)
set(predict "${XRAYLIFT}" predict ${CASES} ${common} --eval -o "${WORK}/p.json")

set(failures "")
# Runs `cmd` (with the hook at unit K, or none for K = 0); checks the exit status and the output fragments.
function(run k expected_rc cmd)
  if(k GREATER 0)
    set(cmd ${CMAKE_COMMAND} -E env XRAYLIFT_TEST_SIGINT_DURING_UNIT=${k} ${${cmd}})
  else()
    set(cmd ${${cmd}})
  endif()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
  set(text "${stdout}${stderr}")
  set(failed "")
  if(NOT "${rc}" STREQUAL "${expected_rc}")
    list(APPEND failed "exit status ${rc}, expected ${expected_rc}")
  endif()
  foreach(fragment IN LISTS ARGN)
    string(FIND "${text}" "${fragment}" at)
    if(at EQUAL -1)
      list(APPEND failed "the output lacks '${fragment}'")
    endif()
  endforeach()
  if(failed)
    list(JOIN failed "; " listed)
    set(failures ${failures} "run with XRAYLIFT_TEST_SIGINT_DURING_UNIT=${k}: ${listed}\n---- output ----\n${text}"
        PARENT_SCOPE)
  endif()
endfunction()

# `folder` holds exactly `entries` (no temporary, nothing else).
function(check_entries step folder)
  file(GLOB found LIST_DIRECTORIES true RELATIVE "${folder}" "${folder}/*" "${folder}/.*")
  list(REMOVE_ITEM found . ..)
  list(SORT found)
  set(expected ${ARGN})
  list(SORT expected)
  if(NOT "${found}" STREQUAL "${expected}")
    set(failures ${failures} "after ${step}: ${folder} holds '${found}', expected exactly '${expected}'" PARENT_SCOPE)
  endif()
endfunction()

# Each finished case's views folder is complete (10 views, infos.json, the render record).
function(check_views step)
  set(failed "")
  foreach(id IN LISTS ARGN)
    foreach(file infos.json render_config.yaml view00.png view09.npy)
      if(NOT EXISTS "${WORK}/p_views/${id}/${file}")
        list(APPEND failed "${WORK}/p_views/${id}/${file} is missing")
      endif()
    endforeach()
  endforeach()
  if(failed)
    list(JOIN failed "; " listed)
    set(failures ${failures} "after ${step}: ${listed}" PARENT_SCOPE)
  endif()
endfunction()

# 1. SIGINT during the first of two cases: it finishes, the second is not started, nothing but its views is written.
run(1 130 predict "predict: interrupted after 1 of 2 case(s) finished" "stopping after the current step"
    "(no eval of a partial set)" "p_views/ and a rerun reuses them")
check_entries("the run interrupted during case 1" "${WORK}" p_views)
check_entries("the run interrupted during case 1" "${WORK}/p_views" ${first})
check_views("the run interrupted during case 1" ${first})
# 2. The rerun reuses the first case; a SIGINT during its last case still ends in 130, with nothing written.
run(2 130 predict "predict: interrupted after 2 of 2 case(s) finished" "${first} is complete (same config and input), reused")
check_entries("the rerun interrupted during its last case" "${WORK}" p_views)
check_entries("the rerun interrupted during its last case" "${WORK}/p_views" ${ids})
check_views("the rerun interrupted during its last case" ${ids})
# 3. Uninterrupted: both reused, every output written for the whole set, the eval over both cases.
run(0 0 predict "predict: 2 case(s)" "eval: CPM")
check_entries("the uninterrupted rerun" "${WORK}" p.json p.detections2d.json p.lung_filter.json p.dense_filter.json p_eval
              p_overlays p_views)
if(EXISTS "${WORK}/p_eval/metrics.json")
  file(READ "${WORK}/p_eval/metrics.json" json)
  string(JSON cases ERROR_VARIABLE error GET "${json}" overall num_cases)
  if(NOT cases EQUAL 2)
    list(APPEND failures "the rerun's eval scored ${cases} case(s) (${error}), expected 2")
  endif()
endif()
# 4. --scene (one case) interrupted during its only case: no scene and no predictions, the views kept.
set(scene "${XRAYLIFT}" predict ${first_case} ${common} --no-overlays --scene "${WORK}/s/scene.glb"
    -o "${WORK}/s/p.json")
run(1 130 scene "predict: interrupted after 1 of 1 case(s) finished")
check_entries("the --scene run interrupted during its case" "${WORK}/s" p_views)

if(failures)
  list(JOIN failures "\n  " listed)
  message(FATAL_ERROR "interrupted predict failed its checks:\n  ${listed}")
endif()
message(STATUS "interrupted predict: exit 130 with what finished, nothing partial written, a rerun completes")
