# Optional peers (oneDNN, XNNPACK, ...) are found through a probe: a throw-away CMake project that runs
# find_package() and links a one-line program in a separate configure. A package whose CMake files are
# broken or need something missing (Debian's oneDNN asks for the OpenCL headers) fails there, not here,
# so an optional peer can never stop ConvScope's configure: the build says so in one line and goes on.
#
#   convscope_probe_peer(dnnl "oneDNN" RESULT_VAR)
# probes cmake/probes/dnnl/ and sets RESULT_VAR to TRUE or FALSE in the caller's scope.
function(convscope_probe_peer probe display result_var)
  set(src "${PROJECT_SOURCE_DIR}/cmake/probes/${probe}")
  set(bin "${CMAKE_BINARY_DIR}/peer-probes/${probe}")
  # A peer found is remembered for the build tree; a missing one is probed again at every configure,
  # so installing it later is enough.
  if(NOT CONVSCOPE_PEER_${probe})
    execute_process(COMMAND "${CMAKE_COMMAND}" -S "${src}" -B "${bin}" -G "${CMAKE_GENERATOR}"
        "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(log "${out}${err}")
    if(rc EQUAL 0)
      execute_process(COMMAND "${CMAKE_COMMAND}" --build "${bin}"
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
      string(APPEND log "${out}${err}")
    endif()
    if(rc EQUAL 0)
      set(ok TRUE)
      set(CONVSCOPE_PEER_${probe} TRUE CACHE INTERNAL "optional peer ${display} usable")
    else()
      set(ok FALSE)
      file(WRITE "${bin}/probe.log" "${log}")
    endif()
  else()
    set(ok TRUE)
  endif()
  if(ok)
    message(STATUS "peer ${display}: found")
  else()
    # The first CMake or compiler error names what is missing; the whole log stays in the build tree.
    string(REGEX MATCH "Could NOT find [^\n]*" why "${log}")
    if(why STREQUAL "")
      string(REGEX MATCH "(CMake Error[^\n]*\n[^\n]*|error: [^\n]*)" why "${log}")
    endif()
    string(REGEX REPLACE "[ \n]+" " " why "${why}")
    if(why STREQUAL "")
      set(why "see ${bin}/probe.log")
    endif()
    message(STATUS "peer ${display}: not available, its benchmarks are skipped (${why})")
  endif()
  set(${result_var} ${ok} PARENT_SCOPE)
endfunction()
