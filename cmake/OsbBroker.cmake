# osb_add_broker(<name>): builds a broker of brokers/list (read by cmake/OsbBrokerList.cmake).
#
# osb-<name>-broker is brokers/<name>/*.c plus a main.c generated here from broker_main.c.in,
# which hands osb_<name>_driver() (OSB_DRIVER_DEFINE in the driver) to the core's osb_main(). It
# links osb::core and the pkg-config modules of the line's libs=, lands in
# <build>/brokers/<name>/ and is installed into bin/.
#
# With OSB_BUILD_TESTS, the broker's tests are registered from brokers/<name>/tests/:
#  - each *.c is a helper program osb-<name>-<file> (underscores become dashes) linking libs= and
#    test_libs=; every test gets its path in OSB_HELPER_<FILE> (upper case), such as
#    OSB_HELPER_AMQP_CLIENT;
#  - each *.sh but adapter.sh is the ctest test <name>_<script>, run as
#    `bash <script> BROKER_BINARY REPO_ROOT` (label integration, timeout 300 s).
# A brokers/<name>/tests/CMakeLists.txt, when present, is used instead of this registration.
# A server that can run only once per machine (a fixed port) is named by an
# `ADAPTER_RESOURCE_LOCK=<lock>` line in the adapter: every test that starts it (the broker's
# integration and contract tests, the BOSH tests that start adapters' servers) then holds the
# ctest RESOURCE_LOCK <lock>, so that parallel runs (ctest -j) never start two.
include_guard(GLOBAL)
find_package(PkgConfig REQUIRED)
set(OSB_ROOT_DIR ${CMAKE_CURRENT_LIST_DIR}/..)
get_filename_component(OSB_ROOT_DIR ${OSB_ROOT_DIR} ABSOLUTE)

# osb_broker_pkg_target(<var> <prefix> <module>...): an imported target of the modules in <var>.
function(osb_broker_pkg_target var prefix)
  set(${var} "" PARENT_SCOPE)
  if(ARGN)
    pkg_check_modules(${prefix} REQUIRED IMPORTED_TARGET ${ARGN})
    set(${var} PkgConfig::${prefix} PARENT_SCOPE)
  endif()
endfunction()

# osb_adapter_resource_lock(<var> <name>): the lock of brokers/<name>/tests/adapter.sh's
# ADAPTER_RESOURCE_LOCK= line, or "" when it has none.
function(osb_adapter_resource_lock var name)
  set(${var} "" PARENT_SCOPE)
  set(adapter ${OSB_ROOT_DIR}/brokers/${name}/tests/adapter.sh)
  if(NOT EXISTS ${adapter})
    return()
  endif()
  file(STRINGS ${adapter} line REGEX "^ADAPTER_RESOURCE_LOCK=")
  if(NOT line)
    return()
  endif()
  if(NOT line MATCHES "^ADAPTER_RESOURCE_LOCK=\"?([A-Za-z0-9_.-]+)\"?$")
    message(FATAL_ERROR "brokers/${name}/tests/adapter.sh: ADAPTER_RESOURCE_LOCK= takes one name of [A-Za-z0-9_.-]")
  endif()
  set(${var} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

function(osb_add_broker name)
  set(dir ${OSB_ROOT_DIR}/brokers/${name})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name})
  set(target osb-${name}-broker)
  string(TOUPPER ${name} NAME)

  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.c)
  if(NOT sources)
    message(FATAL_ERROR "brokers/list names ${name}, but brokers/${name}/ holds no driver (*.c)")
  endif()
  set(OSB_NAME ${name})
  configure_file(${OSB_ROOT_DIR}/cmake/broker_main.c.in ${out}/main.c @ONLY)
  osb_broker_pkg_target(libs OSB_${NAME}_LIBS ${OSB_BROKER_${name}_LIBS})

  add_executable(${target} ${sources} ${out}/main.c)
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${out})
  target_link_libraries(${target} PRIVATE osb::core ${libs})
  install(TARGETS ${target} RUNTIME DESTINATION bin)

  if(NOT OSB_BUILD_TESTS)
    return()
  endif()
  if(EXISTS ${dir}/tests/CMakeLists.txt)
    add_subdirectory(${dir}/tests ${out}/tests)
    return()
  endif()

  set(env "")
  file(GLOB helpers CONFIGURE_DEPENDS ${dir}/tests/*.c)
  if(helpers)
    osb_broker_pkg_target(test_libs OSB_${NAME}_TEST_LIBS ${OSB_BROKER_${name}_TEST_LIBS})
  endif()
  foreach(src IN LISTS helpers)
    get_filename_component(file ${src} NAME_WE)
    string(REPLACE "_" "-" helper osb-${name}-${file})
    string(TOUPPER ${file} FILE)
    add_executable(${helper} ${src})
    set_target_properties(${helper} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${out}/tests)
    target_link_libraries(${helper} PRIVATE ${libs} ${test_libs})
    list(APPEND env "OSB_HELPER_${FILE}=$<TARGET_FILE:${helper}>")
  endforeach()

  osb_adapter_resource_lock(lock ${name})
  file(GLOB scripts CONFIGURE_DEPENDS ${dir}/tests/*.sh)
  list(FILTER scripts EXCLUDE REGEX "/adapter\\.sh$")
  foreach(script IN LISTS scripts)
    get_filename_component(test ${script} NAME_WE)
    add_test(NAME ${name}_${test} COMMAND bash ${script} $<TARGET_FILE:${target}> ${OSB_ROOT_DIR})
    set_tests_properties(${name}_${test} PROPERTIES LABELS integration TIMEOUT 300)
    if(lock)
      set_tests_properties(${name}_${test} PROPERTIES RESOURCE_LOCK ${lock})
    endif()
    if(env)
      set_tests_properties(${name}_${test} PROPERTIES ENVIRONMENT "${env}")
    endif()
  endforeach()
endfunction()
