# osb_add_broker(<name>): builds a broker of brokers/list (read by cmake/OsbBrokerList.cmake).
#
# osb-<name>-broker is brokers/<name>/*.c plus a main.c generated here from broker_main.c.in,
# which hands osb_<name>_driver() (OSB_DRIVER_DEFINE in the driver) to the core's osb_main(). It
# links osb::core and the libraries of the line's libs= (pkg-config modules, or lib:<name>), lands in
# <build>/brokers/<name>/ and is installed into bin/.
#
# With OSB_BUILD_TESTS, the broker's tests are registered from brokers/<name>/tests/:
#  - each *.c is a helper program osb-<name>-<file> (underscores become dashes) linking libs= and
#    test_libs=; every test gets its path in OSB_HELPER_<FILE> (upper case), such as
#    OSB_HELPER_AMQP_CLIENT;
#  - each *.sh but adapter.sh and fixture.sh is the ctest test <name>_<script>, run as
#    `bash <script> BROKER_BINARY REPO_ROOT` (label integration, timeout 300 s).
# A brokers/<name>/tests/CMakeLists.txt, when present, is used instead of this registration.
#
# A server too slow to start for each test (a Ceph cluster) may be started once per ctest run:
# brokers/<name>/tests/fixture.sh, run as `bash fixture.sh start|stop DIR`, becomes the tests
# <name>_fixture_start and <name>_fixture_stop (label fixture), and every test of the broker (its
# scripts, its contract runs, the BOSH start tests) requires it through osb_broker_fixture().
# A server that can run only once per machine (glusterd's fixed port) is named by an
# `ADAPTER_RESOURCE_LOCK=<lock>` line in the adapter: osb_broker_fixture() gives the same tests
# the ctest RESOURCE_LOCK <lock>, so that parallel runs (ctest -j) never start two.
include_guard(GLOBAL)
find_package(PkgConfig REQUIRED)
set(OSB_ROOT_DIR ${CMAKE_CURRENT_LIST_DIR}/..)
get_filename_component(OSB_ROOT_DIR ${OSB_ROOT_DIR} ABSOLUTE)

# osb_broker_pkg_target(<var> <prefix> <module>...): what to link for the libs= entries in <var>: an
# imported target of the pkg-config modules, and for each lib:<name> entry (a library that ships
# no .pc file, such as lib:zookeeper_mt) one of the library find_library() finds, with the include
# directory of its prefix (<prefix>/lib[/<arch>] -> <prefix>/include, for a vendored prefix).
function(osb_broker_pkg_target var prefix)
  set(modules "")
  set(found "")
  foreach(entry IN LISTS ARGN)
    if(entry MATCHES "^lib:(.+)$")
      set(name ${CMAKE_MATCH_1})
      if(NOT TARGET osb_lib_${name})
        find_library(OSB_LIB_${name} NAMES ${name})
        if(NOT OSB_LIB_${name})
          message(FATAL_ERROR "brokers/list: library ${name} (libs=${entry}) not found; install its -dev package (build=)")
        endif()
        get_filename_component(libdir ${OSB_LIB_${name}} DIRECTORY)
        string(REGEX REPLACE "/lib(/[^/]+)?$" "/include" incdir "${libdir}")
        add_library(osb_lib_${name} INTERFACE IMPORTED)
        set_target_properties(osb_lib_${name} PROPERTIES INTERFACE_LINK_LIBRARIES ${OSB_LIB_${name}})
        if(IS_DIRECTORY ${incdir})
          set_target_properties(osb_lib_${name} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${incdir})
        endif()
      endif()
      list(APPEND found osb_lib_${name})
    else()
      list(APPEND modules ${entry})
    endif()
  endforeach()
  if(modules)
    pkg_check_modules(${prefix} REQUIRED IMPORTED_TARGET ${modules})
    list(PREPEND found PkgConfig::${prefix})
  endif()
  set(${var} "${found}" PARENT_SCOPE)
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

# osb_broker_fixture(<name> <test>...): the tests (of the calling directory) that start or use
# broker <name>'s server. They hold the adapter's ADAPTER_RESOURCE_LOCK, if any. When
# brokers/<name>/tests/fixture.sh exists, they also require fixture <name>_server, which ctest
# starts once before the first of them and stops after the last; they hold the resource lock
# <name>_server, since they share that server, and find its directory as $OSB_FIXTURES/<name>.
function(osb_broker_fixture name)
  set(script ${OSB_ROOT_DIR}/brokers/${name}/tests/fixture.sh)
  if(NOT ARGN)
    return()
  endif()
  osb_adapter_resource_lock(lock ${name})
  if(lock)
    set_property(TEST ${ARGN} APPEND PROPERTY RESOURCE_LOCK ${lock})
  endif()
  if(NOT EXISTS ${script})
    return()
  endif()
  set_property(TEST ${ARGN} APPEND PROPERTY FIXTURES_REQUIRED ${name}_server)
  set_property(TEST ${ARGN} APPEND PROPERTY RESOURCE_LOCK ${name}_server)
  set_property(TEST ${ARGN} APPEND PROPERTY ENVIRONMENT OSB_FIXTURES=${CMAKE_BINARY_DIR}/fixtures)
endfunction()

# The start and stop tests of brokers/<name>/tests/fixture.sh, if any (see osb_broker_fixture).
function(osb_add_broker_fixture name)
  set(script ${OSB_ROOT_DIR}/brokers/${name}/tests/fixture.sh)
  if(NOT EXISTS ${script})
    return()
  endif()
  set(dir ${CMAKE_BINARY_DIR}/fixtures/${name})
  add_test(NAME ${name}_fixture_start COMMAND bash ${script} start ${dir})
  add_test(NAME ${name}_fixture_stop COMMAND bash ${script} stop ${dir})
  set_tests_properties(${name}_fixture_start PROPERTIES FIXTURES_SETUP ${name}_server LABELS fixture TIMEOUT 120)
  set_tests_properties(${name}_fixture_stop PROPERTIES FIXTURES_CLEANUP ${name}_server LABELS fixture TIMEOUT 120)
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
  osb_add_broker_fixture(${name})
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

  file(GLOB scripts CONFIGURE_DEPENDS ${dir}/tests/*.sh)
  list(FILTER scripts EXCLUDE REGEX "/(adapter|fixture)\\.sh$")
  foreach(script IN LISTS scripts)
    get_filename_component(test ${script} NAME_WE)
    add_test(NAME ${name}_${test} COMMAND bash ${script} $<TARGET_FILE:${target}> ${OSB_ROOT_DIR})
    set_tests_properties(${name}_${test} PROPERTIES LABELS integration TIMEOUT 300)
    if(env)
      set_tests_properties(${name}_${test} PROPERTIES ENVIRONMENT "${env}")
    endif()
    osb_broker_fixture(${name} ${name}_${test})
  endforeach()
endfunction()
