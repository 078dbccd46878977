#pragma once
// Roles and access policies (default deny). Pure.
//
// Every RPC the gateway relays declares its access policy in its proto
// (option (crm.common.v1.access_policy), proto/crm/common/v1/access.proto);
// the gateway reads it from the method descriptors once at start-up
// (api/method_table.cc). Here: which roles each policy admits.
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::gateway::domain {

// Numeric values match crm.gateway.v1.Role.
enum class Role : int {
  kUnspecified = 0,
  kAdmin = 1,
  kMarketer = 2,
  kSales = 3,
  kService = 4,
  kIntegration = 5,
  kReadOnly = 6,
  kPlatformAdmin = 7,
};

const char* RoleName(Role r);  // "admin", "platform-admin", ...
// Comma-separated role names for the x-crm-roles header.
std::string RolesHeader(const std::vector<Role>& roles);

// Inverse of RolesHeader; unknown names are dropped.
std::vector<Role> ParseRolesHeader(absl::string_view header);

// Numeric values match crm.common.v1.AccessPolicy.
enum class AccessPolicy : int {
  kUnspecified = 0,  // the method declares none: refused to everyone
  kEveryRole = 1,
  kWriters = 2,
  kOrderWriters = 3,
  kPipelineWriters = 4,
  kCatalogWriters = 5,
  kImporters = 6,
  kPrivacy = 7,
  kAdmins = 8,
  kPlatform = 9,
  kNobody = 10,  // internal methods: no API key may call them
  kMarketing = 11,
  kDeskWriters = 12,
};

// The policy of a proto enum number; numbers this build does not know
// become kUnspecified (deny).
AccessPolicy AccessPolicyFromNumber(int number);
// Whether a method declares a policy at all (one without is unknown to the
// gateway and refused before its key is looked at).
inline bool HasPolicy(AccessPolicy p) { return p != AccessPolicy::kUnspecified; }
// The roles `policy` admits (none for kUnspecified and kNobody).
const std::set<Role>& RolesOf(AccessPolicy policy);
// True when one of `roles` is admitted by `policy`.
bool IsAllowed(const std::vector<Role>& roles, AccessPolicy policy);

}  // namespace crm::gateway::domain
