# Small helpers that keep every subsystem target uniform (userver's UserverModule idea).

set(AGENTD_WARNINGS -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)

function(agentd_apply_common target)
  target_compile_options(${target} PRIVATE ${AGENTD_WARNINGS})
  if(AGENTD_SANITIZE)
    # UB fails the test (by default UBSan reports and carries on).
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()

# agentd_add_library(name SOURCES ... PUBLIC_DEPS ... PRIVATE_DEPS ...)
# Creates static library agentd_<name>, aliased agentd::<name>, with headers included from src/.
function(agentd_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(agentd_${name} STATIC ${ARG_SOURCES})
  add_library(agentd::${name} ALIAS agentd_${name})
  target_include_directories(agentd_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(agentd_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  agentd_apply_common(agentd_${name})
endfunction()

# agentd_add_test(name SOURCES ... DEPS ... LABELS ... [SERVICES --pg --redis] [OWN_MAIN])
# Links gtest_main unless OWN_MAIN is given. SERVICES runs the binary under
# tests/harness/with-services, which starts those servers on free loopback ports for it.
function(agentd_add_test name)
  cmake_parse_arguments(ARG "OWN_MAIN" "" "SOURCES;DEPS;LABELS;SERVICES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} agentd::test_support GTest::gtest GTest::gmock)
  if(NOT ARG_OWN_MAIN)
    target_link_libraries(${name} PRIVATE GTest::gtest_main)
  endif()
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  agentd_apply_common(${name})
  if(ARG_SERVICES)
    add_test(NAME ${name} COMMAND ${PROJECT_SOURCE_DIR}/tests/harness/with-services
             ${ARG_SERVICES} -- $<TARGET_FILE:${name}>)
  else()
    add_test(NAME ${name} COMMAND ${name})
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 300)
endfunction()
