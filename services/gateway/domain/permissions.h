#pragma once
// Roles and the per-method permission table (default deny). Pure.
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

// full_method: "/crm.customer_store.v1.CustomerStoreService/GetCustomer".
bool IsAllowed(const std::vector<Role>& roles, absl::string_view full_method);
// True when the table names the method at all (unknown methods are denied).
bool IsKnownMethod(absl::string_view full_method);

}  // namespace crm::gateway::domain
