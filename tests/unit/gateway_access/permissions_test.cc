#include "services/gateway/domain/permissions.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace crm::gateway::domain;  // NOLINT

const std::vector<Role> kAllRoles = {Role::kAdmin,       Role::kMarketer, Role::kSales,
                                     Role::kService,     Role::kIntegration,
                                     Role::kReadOnly,    Role::kPlatformAdmin};

std::set<Role> Admitted(AccessPolicy p) {
  std::set<Role> out;
  for (Role r : kAllRoles) {
    if (IsAllowed({r}, p)) out.insert(r);
  }
  return out;
}

TEST_CASE("Access policies admit exactly their roles", "[gateway][domain]") {
  using R = Role;
  const std::vector<std::pair<AccessPolicy, std::set<Role>>> expected = {
      {AccessPolicy::kEveryRole,
       {R::kAdmin, R::kMarketer, R::kSales, R::kService, R::kIntegration, R::kReadOnly}},
      {AccessPolicy::kWriters, {R::kAdmin, R::kMarketer, R::kSales, R::kService, R::kIntegration}},
      {AccessPolicy::kOrderWriters, {R::kAdmin, R::kSales, R::kService, R::kIntegration}},
      {AccessPolicy::kPipelineWriters, {R::kAdmin, R::kSales}},
      {AccessPolicy::kCatalogWriters, {R::kAdmin, R::kMarketer, R::kIntegration}},
      {AccessPolicy::kImporters, {R::kAdmin, R::kIntegration}},
      {AccessPolicy::kPrivacy, {R::kAdmin, R::kService}},
      {AccessPolicy::kAdmins, {R::kAdmin}},
      {AccessPolicy::kPlatform, {R::kPlatformAdmin}},
      {AccessPolicy::kNobody, {}},
      {AccessPolicy::kMarketing, {R::kAdmin, R::kMarketer, R::kIntegration}},
      {AccessPolicy::kDeskWriters, {R::kAdmin, R::kSales, R::kService, R::kIntegration}},
      {AccessPolicy::kUnspecified, {}},
  };
  for (const auto& [policy, roles] : expected) {
    INFO(static_cast<int>(policy));
    CHECK(RolesOf(policy) == roles);
    CHECK(Admitted(policy) == roles);
  }
  SECTION("one admitted role among several is enough; none is nothing") {
    CHECK(IsAllowed({Role::kReadOnly, Role::kSales}, AccessPolicy::kWriters));
    CHECK_FALSE(IsAllowed({Role::kReadOnly}, AccessPolicy::kWriters));
    CHECK_FALSE(IsAllowed({}, AccessPolicy::kEveryRole));
    CHECK_FALSE(IsAllowed(kAllRoles, AccessPolicy::kNobody));
  }
  SECTION("no policy, or one this build does not know: denied to every role") {
    CHECK_FALSE(HasPolicy(AccessPolicy::kUnspecified));
    CHECK(HasPolicy(AccessPolicy::kNobody));
    for (int n : {0, 13, 99, -1}) {
      INFO(n);
      CHECK(AccessPolicyFromNumber(n) == AccessPolicy::kUnspecified);
      CHECK_FALSE(IsAllowed(kAllRoles, AccessPolicyFromNumber(n)));
    }
    for (int n = 1; n <= 12; ++n) CHECK(static_cast<int>(AccessPolicyFromNumber(n)) == n);
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
