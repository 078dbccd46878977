#include "services/gateway/domain/permissions.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>


namespace {

using namespace crm::gateway::domain;  // NOLINT

const std::string kCs = "/crm.customer_store.v1.CustomerStoreService/";
const std::string kAdminSvc = "/crm.gateway.v1.AdminService/";
const std::vector<Role> kAllRoles = {Role::kAdmin,       Role::kMarketer, Role::kSales,
                                     Role::kService,     Role::kIntegration,
                                     Role::kReadOnly,    Role::kPlatformAdmin};

TEST_CASE("Permission table", "[gateway][domain]") {
  SECTION("unknown methods are denied to everyone") {
    for (const std::string m : {"/crm.customer_store.v1.CustomerStoreService/DropTable",
                                "/grpc.health.v1.Health/Check", "", "GetCustomer"}) {
      INFO(m);
      CHECK_FALSE(IsKnownMethod(m));
      CHECK_FALSE(IsAllowed(kAllRoles, m));
    }
  }
  SECTION("no roles, no access") { CHECK_FALSE(IsAllowed({}, kCs + "GetCustomer")); }
  SECTION("read-only may read but not write") {
    for (const char* m : {"GetCustomer", "ListCustomers", "SearchCustomers", "GetCustomerView",
                          "ListConsents", "ListInteractions"}) {
      INFO(m);
      CHECK(IsKnownMethod(kCs + m));
      CHECK(IsAllowed({Role::kReadOnly}, kCs + m));
    }
    for (const char* m : {"CreateCustomer", "UpdateCustomer", "UpsertCustomer", "RecordConsent",
                          "CreateInteraction", "DeleteCustomer", "ExportCustomer"}) {
      INFO(m);
      CHECK_FALSE(IsAllowed({Role::kReadOnly}, kCs + m));
      CHECK(IsAllowed({Role::kMarketer, Role::kAdmin}, kCs + m));
    }
    CHECK(IsAllowed({Role::kReadOnly, Role::kSales}, kCs + "CreateCustomer"));
  }
  SECTION("privacy methods: admin and service only") {
    for (const char* m : {"DeleteCustomer", "ExportCustomer"}) {
      INFO(m);
      CHECK(IsAllowed({Role::kAdmin}, kCs + m));
      CHECK(IsAllowed({Role::kService}, kCs + m));
      for (Role r : {Role::kMarketer, Role::kSales, Role::kIntegration, Role::kReadOnly,
                     Role::kPlatformAdmin}) {
        CHECK_FALSE(IsAllowed({r}, kCs + m));
      }
    }
  }
  SECTION("tenant creation is for platform admins only") {
    CHECK(IsAllowed({Role::kPlatformAdmin}, kAdminSvc + "CreateTenant"));
    CHECK_FALSE(IsAllowed({Role::kAdmin}, kAdminSvc + "CreateTenant"));
    CHECK(IsAllowed({Role::kAdmin}, kAdminSvc + "CreateApiKey"));
    CHECK_FALSE(IsAllowed({Role::kMarketer}, kAdminSvc + "CreateApiKey"));
    CHECK_FALSE(IsAllowed({Role::kPlatformAdmin}, kCs + "GetCustomer"));
  }
  SECTION("ERP ingest and export: integration and admin only") {
    for (const char* m : {"IngestOrders", "ExportOrders"}) {
      std::string full = std::string("/crm.transaction.v1.ErpIntegrationService/") + m;
      INFO(full);
      CHECK(IsKnownMethod(full));
      CHECK(IsAllowed({Role::kIntegration}, full));
      CHECK(IsAllowed({Role::kAdmin}, full));
      for (Role r : {Role::kMarketer, Role::kSales, Role::kService, Role::kReadOnly,
                     Role::kPlatformAdmin}) {
        CHECK_FALSE(IsAllowed({r}, full));
      }
    }
  }
}

TEST_CASE("RolesHeader and ParseRolesHeader round trip", "[gateway][domain]") {
  CHECK(RolesHeader(kAllRoles) ==
        "admin,marketer,sales,service,integration,read-only,platform-admin");
  CHECK(ParseRolesHeader(RolesHeader(kAllRoles)) == kAllRoles);
  CHECK(RolesHeader({}).empty());
  CHECK(ParseRolesHeader("").empty());
  CHECK(ParseRolesHeader("read-only,,bogus,admin") ==
        std::vector<Role>{Role::kReadOnly, Role::kAdmin});
  CHECK(std::string(RoleName(Role::kUnspecified)) == "unspecified");
}

}  // namespace
