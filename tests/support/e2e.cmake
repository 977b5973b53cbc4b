# Helpers for the end-to-end suites (tests/interop, tests/badinput, tests/load): pytest files run
# with Debian's python3 (it has the websockets package), `node --test` files with the machine's
# node; the programs under test reach them through environment variables, as generator
# expressions, so each build tree tests its own binaries. Included by each suite's folder.
find_program(DUPLEX_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
find_program(DUPLEX_NODE node REQUIRED)

# duplex_e2e_test(NAME name TIMEOUT seconds RUNNER pytest|node FILE file [ARGS ...])
function(duplex_e2e_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT;RUNNER;FILE" "ARGS" ${ARGN})
  if(T_RUNNER STREQUAL "pytest")
    set(cmd ${DUPLEX_PYTHON3} -m pytest -p no:cacheprovider -q -rfE ${T_ARGS}
            ${CMAKE_CURRENT_SOURCE_DIR}/${T_FILE})
  elseif(T_RUNNER STREQUAL "node")
    set(cmd ${DUPLEX_NODE} --test ${T_ARGS} ${CMAKE_CURRENT_SOURCE_DIR}/${T_FILE})
  else()
    message(FATAL_ERROR "duplex_e2e_test: RUNNER must be pytest or node")
  endif()
  set(env PYTHONDONTWRITEBYTECODE=1)
  if(TARGET duplex-echo)
    list(APPEND env "DUPLEX_ECHO=$<TARGET_FILE:duplex-echo>")
  endif()
  if(TARGET duplex-interop-client)
    list(APPEND env "DUPLEX_INTEROP_CLIENT=$<TARGET_FILE:duplex-interop-client>")
  endif()
  add_test(NAME ${T_NAME} COMMAND ${cmd} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set(labels e2e)
  # The suites that scripts/test runs a second time on io_uring (DUPLEX_IO_BACKEND).
  if(T_NAME MATCHES "^(interop|badinput|load|soak)\\.")
    list(APPEND labels backends)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${labels}"
                                            ENVIRONMENT "${env}")
endfunction()
