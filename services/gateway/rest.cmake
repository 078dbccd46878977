# REST/JSON half of the gateway: path templates + router (pure) and the
# transcoder, OpenAPI generator, error mapping and Beast HTTP server.
# Included from services/gateway/CMakeLists.txt.
set(CRM_GATEWAY_REST_DIR ${CMAKE_CURRENT_LIST_DIR})

add_library(crm_gateway_rest_core STATIC
  ${CRM_GATEWAY_REST_DIR}/domain/json_limits.cc
  ${CRM_GATEWAY_REST_DIR}/domain/path_template.cc
  ${CRM_GATEWAY_REST_DIR}/domain/router.cc)
target_include_directories(crm_gateway_rest_core PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(crm_gateway_rest_core PUBLIC absl::status absl::statusor absl::strings
                      crm::common)
crm_warnings(crm_gateway_rest_core)

if(TARGET Boost::headers)
  set(CRM_GATEWAY_BOOST Boost::headers)
else()
  set(CRM_GATEWAY_BOOST Boost::boost)
endif()

add_library(crm_gateway_rest STATIC
  ${CRM_GATEWAY_REST_DIR}/api/transcoder.cc
  ${CRM_GATEWAY_REST_DIR}/api/openapi.cc
  ${CRM_GATEWAY_REST_DIR}/api/http_server.cc
  ${CRM_GATEWAY_REST_DIR}/api/rest_errors.cc)
target_include_directories(crm_gateway_rest PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(crm_gateway_rest PUBLIC crm_gateway_rest_core crm_proto crm::common
                      crm::observability ${CRM_GATEWAY_BOOST} nlohmann_json::nlohmann_json
                      Threads::Threads)
crm_warnings(crm_gateway_rest)
