# The 3D quality gate (docs/detect3d.md "Quality gate"): the shipped weights on held-out phantoms' views, for every
# method the CLI lists (below), so a new method is gated without editing this file:
#   1. with the projected truth as the 2D boxes (--oracle-2d): CPM >= MIN_ORACLE_CPM and ATE < MAX_ORACLE_ATE_MM;
#   2. with the real 2D detections: at least MIN_REAL_DETECTED truths found (a modest bound, docs/BENCHMARKS.md).
# Each run is checked by cmake/expect_run.cmake (the xraylift_cli_runs checks). One thread: the figures do not depend
# on the machine's core count, and a loaded machine (ctest -j) does not stall libtorch's thread pool (measured:
# 113 s per case with 2 threads under load against 2 s with one).
#   cmake -DXRAYLIFT=<binary> -DVIEWS=<folder of view sets> -DCONFIG=<detect3d yaml> -DWEIGHTS=<safetensors>
#         -DOUT=<folder> -DMIN_ORACLE_CPM=0.9 -DMAX_ORACLE_ATE_MM=1 -DMIN_REAL_DETECTED=<n>
#         -DRUN_CHECKS=<expect_run.cmake> [-DNOT_SHIPPED=<methods>] [-DNO_2D_STAGE=<methods>] -P quality_gate.cmake
# A method with its own weights file next to WEIGHTS (<folder of WEIGHTS>/<method>.safetensors, as the demo looks
# them up) is run with it, the others with WEIGHTS. NOT_SHIPPED names the registered methods whose weights are not
# shipped yet (so the gate cannot hold them); NO_2D_STAGE those that decide in 3D without 2D boxes (fusion, and
# mv2d_fusion, whose queries are fusion's 3D candidates: --oracle-2d replaces only 2D proposals) (no oracle run,
# the real run only). Each is named in the log, and one that is not registered is an error, so the lists cannot go
# stale silently.
foreach(input XRAYLIFT VIEWS CONFIG WEIGHTS OUT MIN_ORACLE_CPM MAX_ORACLE_ATE_MM MIN_REAL_DETECTED RUN_CHECKS)
  if(NOT DEFINED ${input})
    message(FATAL_ERROR "quality_gate.cmake: -D${input}=... is required")
  endif()
endforeach()

# The methods: `xraylift methods --names` (one per line) where the build has that command, else the --method line of
# `predict --help` ("--method TEXT   mv2d | triangulate (overrides detect3d.method)").
execute_process(COMMAND "${XRAYLIFT}" methods --names RESULT_VARIABLE rc OUTPUT_VARIABLE listed ERROR_QUIET)
if(rc EQUAL 0)
  string(REGEX MATCHALL "[a-z0-9_]+" methods "${listed}")
  set(source "`xraylift methods --names`")
else()
  execute_process(COMMAND "${XRAYLIFT}" predict --help RESULT_VARIABLE rc OUTPUT_VARIABLE listed ERROR_VARIABLE err)
  string(REGEX MATCH "--method[^\n]*" method_line "${listed}")
  string(REGEX REPLACE "^--method +[A-Z:]+ +" "" method_text "${method_line}")
  string(REGEX REPLACE " *\\(.*$" "" method_text "${method_text}")
  string(REGEX MATCHALL "[a-z0-9_]+" methods "${method_text}")
  set(source "the --method line of `xraylift predict --help`")
endif()
list(LENGTH methods method_count)
if(NOT rc EQUAL 0 OR method_count EQUAL 0)
  message(FATAL_ERROR "quality_gate.cmake: found the methods '${methods}' in ${source} (exit ${rc}), expected one "
                      "or more:\n${listed}${err}")
endif()
message(STATUS "methods (from ${source}): ${methods}")
# Comma-separated lists too (a `;` in an add_test argument would split it).
string(REPLACE "," ";" NOT_SHIPPED "${NOT_SHIPPED}")
string(REPLACE "," ";" NO_2D_STAGE "${NO_2D_STAGE}")
foreach(method IN LISTS NOT_SHIPPED NO_2D_STAGE)
  list(FIND methods "${method}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "quality_gate.cmake: NOT_SHIPPED / NO_2D_STAGE name '${method}', which is not a registered "
                        "method")
  endif()
endforeach()
foreach(method IN LISTS NOT_SHIPPED)
  list(REMOVE_ITEM methods ${method})
  message(STATUS "not gated: ${method} (no shipped weights yet)")
endforeach()
foreach(method IN LISTS NO_2D_STAGE)
  message(STATUS "no oracle-2D run for ${method} (it has no 2D stage)")
endforeach()

set(failed "")
# run_and_check(<name> <JSON checks...> -- <predict arguments...>)
function(run_and_check name)
  set(checks "")
  set(args "")
  set(in_args OFF)
  foreach(a IN LISTS ARGN)
    if(in_args)
      list(APPEND args "${a}")
    elseif(a STREQUAL "--")
      set(in_args ON)
    else()
      string(APPEND checks " [==[${a}]==]")
    endif()
  endforeach()
  set(spec "${OUT}/${name}.checks.cmake")
  file(WRITE "${spec}" "set(CLEAN [==[${OUT}/${name}.json]==] [==[${OUT}/${name}.detections2d.json]==] "
                       "[==[${OUT}/${name}_eval]==])\nset(JSON${checks})\n")
  execute_process(COMMAND "${CMAKE_COMMAND}" -DSPEC=${spec} -P "${RUN_CHECKS}" -- "${XRAYLIFT}" predict "${VIEWS}"
                          --config "${CONFIG}" --weights "${method_weights}" --eval --no-overlays --threads 1
                          -o "${OUT}/${name}.json"
                          ${args}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("== ${name}\n${out}${err}")
  if(NOT rc EQUAL 0)
    set(failed ${failed} ${name} PARENT_SCOPE)
  endif()
endfunction()

file(MAKE_DIRECTORY "${OUT}")
get_filename_component(weights_dir "${WEIGHTS}" DIRECTORY)
foreach(method IN LISTS methods)
  set(method_weights "${WEIGHTS}")
  if(EXISTS "${weights_dir}/${method}.safetensors")
    set(method_weights "${weights_dir}/${method}.safetensors")
  endif()
  message(STATUS "${method}: weights ${method_weights}")
  list(FIND NO_2D_STAGE "${method}" no_oracle)
  if(no_oracle EQUAL -1)
    set(metrics "${OUT}/oracle_${method}_eval/metrics.json")
    run_and_check(oracle_${method} "${metrics}" overall.froc.cpm >= ${MIN_ORACLE_CPM}
                  "${metrics}" overall.nuscenes.ate_mm < ${MAX_ORACLE_ATE_MM} -- --method ${method} --oracle-2d)
  endif()
  set(metrics "${OUT}/real_${method}_eval/metrics.json")
  run_and_check(real_${method} "${metrics}" overall.froc.num_detected >= ${MIN_REAL_DETECTED} -- --method ${method})
endforeach()
if(failed)
  message(FATAL_ERROR "the 3D quality gate failed: ${failed}")
endif()
message(STATUS "the 3D quality gate passed for ${methods}")
