# A batch `xraylift render` interrupted by a real SIGINT (docs/RELIABILITY.md "Interrupted runs"), then rerun:
#   cmake -DXRAYLIFT=<xraylift> -DWORK=<scratch folder> -P interrupted_render.cmake
# Three tiny .nrrd cases. The signal is raised by the process itself through the test-only hook of
# core::for_each_unit (XRAYLIFT_TEST_SIGINT_DURING_UNIT=K: SIGINT just before unit K starts), so it arrives at a
# known unit without sleeps or timing. Catches:
#   - a command that ignores an interrupt during a unit, or one received during the last unit (exit 0, not 130);
#   - a message that does not say how many units finished;
#   - a finished case folder that is incomplete, an unfinished one that appears (even half), or a temporary left;
#   - a rerun that renders finished folders again or does not complete the missing ones.
if(NOT XRAYLIFT OR NOT WORK)
  message(FATAL_ERROR "interrupted_render.cmake: -DXRAYLIFT=<xraylift> -DWORK=<folder> are required")
endif()
file(REMOVE_RECURSE "${WORK}")
set(ids a b c)
set(manifest "")
foreach(id IN LISTS ids)
  string(REPEAT "A" 512 voxels)  # 8 x 8 x 8 uchar voxels of 65 HU
  file(WRITE "${WORK}/in/${id}.nrrd"
       "NRRD0004\ntype: uchar\ndimension: 3\nsizes: 8 8 8\nspacings: 40 40 40\nencoding: raw\n\n${voxels}")
  string(APPEND manifest "in/${id}.nrrd\n")
endforeach()
file(WRITE "${WORK}/cases.txt" "${manifest}")
set(out "${WORK}/out")
set(render "${XRAYLIFT}" render --manifest "${WORK}/cases.txt" --size 16 --out "${out}")

set(failures "")
# Runs render (with the hook at unit K, or none for K = 0); checks the exit status and the output fragments.
function(run_render k expected_rc)
  if(k GREATER 0)
    set(cmd ${CMAKE_COMMAND} -E env XRAYLIFT_TEST_SIGINT_DURING_UNIT=${k} ${render})
  else()
    set(cmd ${render})
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

# The output folder holds exactly the case folders `finished`, each complete (10 views, infos.json, record).
function(check_folders step)
  set(finished ${ARGN})
  file(GLOB entries LIST_DIRECTORIES true RELATIVE "${out}" "${out}/*" "${out}/.*")
  list(REMOVE_ITEM entries . ..)
  list(SORT entries)
  set(expected ${finished})
  list(SORT expected)
  set(failed "")
  if(NOT "${entries}" STREQUAL "${expected}")
    list(APPEND failed "${out} holds '${entries}', expected exactly '${expected}' (no temporary, no unfinished case)")
  endif()
  foreach(id IN LISTS finished)
    foreach(file infos.json render_config.yaml view00.png view09.npy view09_overlay.png)
      if(NOT EXISTS "${out}/${id}/${file}")
        list(APPEND failed "${out}/${id}/${file} is missing")
      endif()
    endforeach()
    if(EXISTS "${out}/${id}/infos.json")
      file(READ "${out}/${id}/infos.json" json)
      string(JSON views ERROR_VARIABLE error LENGTH "${json}" cams)
      if(error OR NOT views EQUAL 10)
        list(APPEND failed "${out}/${id}/infos.json: cams '${views}' (${error}), expected 10 views")
      endif()
    endif()
  endforeach()
  if(failed)
    list(JOIN failed "; " listed)
    set(failures ${failures} "after ${step}: ${listed}" PARENT_SCOPE)
  endif()
endfunction()

# 1. SIGINT during the second of three cases: that case still finishes, the third is not started.
run_render(2 130 "render: interrupted after 2 of 3 case(s) finished" "stopping after the current step")
check_folders("the run interrupted during case 2" a b)
# 2. The rerun skips both, and a SIGINT during its last unit (case 3) still ends in 130 with all three finished.
run_render(3 130 "render: interrupted after 3 of 3 case(s) finished" "out/a is complete (same config), skipped"
           "out/b is complete (same config), skipped")
check_folders("the rerun interrupted during its last case" a b c)
# 3. Uninterrupted: nothing left to render.
run_render(0 0 "out/c is complete (same config), skipped")
check_folders("the uninterrupted rerun" a b c)

if(failures)
  list(JOIN failures "\n  " listed)
  message(FATAL_ERROR "interrupted render failed its checks:\n  ${listed}")
endif()
message(STATUS "interrupted render: exit 130 with what finished, whole case folders, a rerun completes the rest")
