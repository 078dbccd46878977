# Test registration helpers. Integration tests need the private PostgreSQL +
# Redis stack that the `datastores` ctest fixture (tests/support) starts, so
# plain `ctest` is self-contained.
set(CRM_TEST_RUN_DIR ${CMAKE_BINARY_DIR}/test-run)
set(CRM_TEST_PG_PORT 55432)
set(CRM_TEST_REDIS_PORT 56379)
# Loopback-only credentials of the private test stack (deploy/scripts/datastores.sh).
set(CRM_TEST_PG_OWNER_DSN "postgresql://crm_owner:crm@127.0.0.1:${CRM_TEST_PG_PORT}/crm")
set(CRM_TEST_PG_APP_DSN "postgresql://crm_app:crm@127.0.0.1:${CRM_TEST_PG_PORT}/crm")
set(CRM_TEST_REDIS_ADDR "127.0.0.1:${CRM_TEST_REDIS_PORT}")

# Test names are prefixed with "<target>." so `ctest -R <target>` selects them.
# Every discovered test runs with `--warn NoTests`: a test whose name ctest
# mangles (a ';' in a TEST_CASE name splits it) runs nothing and must fail,
# not pass silently.
set(CRM_CATCH_ARGS --warn NoTests)
# crm_unit_test(<target>): no network, label `unit`.
function(crm_unit_test target)
  catch_discover_tests(${target} TEST_PREFIX "${target}." EXTRA_ARGS ${CRM_CATCH_ARGS}
    PROPERTIES LABELS unit)
endfunction()

# crm_integration_test(<target>): label `integration`, requires the datastores
# fixture and receives the DSNs through the environment.
#
# The ENVIRONMENT list is applied from a ctest include file that runs after
# Catch's discovery file: catch_discover_tests(PROPERTIES ...) flattens the
# ';' of a multi-variable ENVIRONMENT value into separate arguments.
#
# Each test process runs under `flock <build>/pg-schemas.lock`: tests reset
# service schemas, and RESOURCE_LOCK only orders the tests of one ctest run,
# not those of two runs sharing the build tree (and its datastores).
function(crm_integration_test target)
  set_target_properties(${target} PROPERTIES CROSSCOMPILING_EMULATOR
    "flock;${CMAKE_BINARY_DIR}/pg-schemas.lock")
  catch_discover_tests(${target} TEST_PREFIX "${target}." TEST_LIST ${target}_TESTS
    EXTRA_ARGS ${CRM_CATCH_ARGS} PROPERTIES LABELS integration FIXTURES_REQUIRED datastores RESOURCE_LOCK crm_pg_schemas)
  set(env "CRM_TEST_PG_OWNER_DSN=${CRM_TEST_PG_OWNER_DSN}")
  string(APPEND env ";CRM_TEST_PG_APP_DSN=${CRM_TEST_PG_APP_DSN}")
  string(APPEND env ";CRM_TEST_REDIS_ADDR=${CRM_TEST_REDIS_ADDR}")
  set(env_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_env.cmake)
  file(WRITE ${env_file}
    "if(DEFINED ${target}_TESTS)\n"
    "  set_tests_properties(\${${target}_TESTS} PROPERTIES ENVIRONMENT \"${env}\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${env_file})
endfunction()
