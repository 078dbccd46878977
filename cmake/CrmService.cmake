# crm_add_service(<name> CORE <srcs...> ADAPTERS <srcs...> MAIN <srcs...>)
# Creates crm_<name>_core (domain + app, Abseil only), crm_<name>_adapters
# (api + storage + clients) and the executable <name-kebab>.
function(crm_add_service name)
  cmake_parse_arguments(ARG "" "" "CORE;ADAPTERS;MAIN;LIBS" ${ARGN})
  string(REPLACE "_" "-" exe ${name})
  add_library(crm_${name}_core STATIC ${ARG_CORE})
  target_include_directories(crm_${name}_core PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(crm_${name}_core PUBLIC absl::status absl::statusor absl::strings
                        absl::time absl::str_format absl::random_random crm::common)
  crm_warnings(crm_${name}_core)

  add_library(crm_${name}_adapters STATIC ${ARG_ADAPTERS})
  target_link_libraries(crm_${name}_adapters PUBLIC crm_${name}_core crm_proto crm::grpcutil
                        crm::pg crm::redis crm::observability ${ARG_LIBS})
  crm_warnings(crm_${name}_adapters)

  add_executable(${exe} ${ARG_MAIN})
  target_link_libraries(${exe} PRIVATE crm_${name}_adapters)
  crm_warnings(${exe})
endfunction()
