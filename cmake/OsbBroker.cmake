# osb_add_broker(<mw> SOURCES ... [LIBRARIES ...])
# Builds osb-<mw>-broker from a driver and its main.c, links osb::core, installs it,
# and adds the broker's tests from brokers/<mw>/tests/CMakeLists.txt when present.
function(osb_add_broker mw)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(target osb-${mw}-broker)
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE osb::core ${ARG_LIBRARIES})
  install(TARGETS ${target} RUNTIME DESTINATION bin)
  if(OSB_BUILD_TESTS AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/tests/CMakeLists.txt)
    add_subdirectory(tests)
  endif()
endfunction()
