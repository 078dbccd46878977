# Toolchain discovery, done once for the whole tree (Debian 12 packages).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(Catch2 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Boost REQUIRED)  # header-only parts: Beast, Math (libboost-math-dev)
# NLopt (libnlopt-dev + libnlopt-cxx-dev for nlopt.hpp). Two config files
# answer to the name NLopt (nlopt/ and nlopt_cxx/); either library serves the
# header-only C++ wrapper, so take whichever target was found.
find_package(NLopt CONFIG REQUIRED)
if(TARGET NLopt::nlopt_cxx)
  set(CRM_NLOPT_TARGET NLopt::nlopt_cxx)
else()
  set(CRM_NLOPT_TARGET NLopt::nlopt)
endif()
# CRoaring (libroaring-dev): live segments' member bitmaps.
find_package(roaring CONFIG REQUIRED)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)  # libs/pg: describing prepared statements
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(GMIME REQUIRED IMPORTED_TARGET gmime-3.0)  # the service desk's inbound mail
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# google/api/*.proto and google/rpc/*.proto ship in this Debian package.
set(CRM_GOOGLEAPIS_DIR /usr/share/gocode/src/github.com/gogo/googleapis
    CACHE PATH "Folder holding google/api/*.proto and google/rpc/*.proto")
if(NOT EXISTS ${CRM_GOOGLEAPIS_DIR}/google/api/annotations.proto)
  message(FATAL_ERROR "google/api/annotations.proto not found under ${CRM_GOOGLEAPIS_DIR} "
                      "(apt-get install golang-github-gogo-googleapis-dev)")
endif()
include(Catch)
