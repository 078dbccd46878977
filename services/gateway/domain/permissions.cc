#include "services/gateway/domain/permissions.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace crm::gateway::domain {
namespace {

using RoleSet = std::set<Role>;

const RoleSet kEveryRole = {Role::kAdmin,   Role::kMarketer,    Role::kSales,
                            Role::kService, Role::kIntegration, Role::kReadOnly};
const RoleSet kWriters = {Role::kAdmin, Role::kMarketer, Role::kSales, Role::kService,
                          Role::kIntegration};
const RoleSet kOrderWriters = {Role::kAdmin, Role::kSales, Role::kService, Role::kIntegration};
// The sales pipeline is written by sales and admins; its stage probabilities
// (which weight every forecast) by admins only.
const RoleSet kPipelineWriters = {Role::kAdmin, Role::kSales};
const RoleSet kCatalogWriters = {Role::kAdmin, Role::kMarketer, Role::kIntegration};
const RoleSet kImporters = {Role::kAdmin, Role::kIntegration};
const RoleSet kPrivacy = {Role::kAdmin, Role::kService};
const RoleSet kAdmins = {Role::kAdmin};
const RoleSet kPlatform = {Role::kPlatformAdmin};
const RoleSet kNobody = {};

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAdmin:
      return "admin";
    case Role::kMarketer:
      return "marketer";
    case Role::kSales:
      return "sales";
    case Role::kService:
      return "service";
    case Role::kIntegration:
      return "integration";
    case Role::kReadOnly:
      return "read-only";
    case Role::kPlatformAdmin:
      return "platform-admin";
    default:
      return "unspecified";
  }
}

std::string RolesHeader(const std::vector<Role>& roles) {
  return absl::StrJoin(roles, ",", [](std::string* out, Role r) { out->append(RoleName(r)); });
}

std::vector<Role> ParseRolesHeader(absl::string_view header) {
  std::vector<Role> out;
  for (absl::string_view name : absl::StrSplit(header, ',', absl::SkipEmpty())) {
    for (int v = 1; v <= 7; ++v) {
      if (name == RoleName(static_cast<Role>(v))) out.push_back(static_cast<Role>(v));
    }
  }
  return out;
}

AccessPolicy AccessPolicyFromNumber(int number) {
  if (number < 0 || number > static_cast<int>(AccessPolicy::kDeskWriters)) {
    return AccessPolicy::kUnspecified;
  }
  return static_cast<AccessPolicy>(number);
}

const std::set<Role>& RolesOf(AccessPolicy policy) {
  switch (policy) {
    case AccessPolicy::kEveryRole:
      return kEveryRole;
    case AccessPolicy::kWriters:
      return kWriters;
    case AccessPolicy::kOrderWriters:
    case AccessPolicy::kDeskWriters:  // the service desk's tickets
      return kOrderWriters;
    case AccessPolicy::kPipelineWriters:
      return kPipelineWriters;
    case AccessPolicy::kCatalogWriters:
    case AccessPolicy::kMarketing:
      return kCatalogWriters;
    case AccessPolicy::kImporters:
      return kImporters;
    case AccessPolicy::kPrivacy:
      return kPrivacy;
    case AccessPolicy::kAdmins:
      return kAdmins;
    case AccessPolicy::kPlatform:
      return kPlatform;
    case AccessPolicy::kNobody:
    case AccessPolicy::kUnspecified:
      break;
  }
  return kNobody;
}

bool IsAllowed(const std::vector<Role>& roles, AccessPolicy policy) {
  const std::set<Role>& admitted = RolesOf(policy);
  for (Role r : roles) {
    if (admitted.count(r)) return true;
  }
  return false;
}

}  // namespace crm::gateway::domain
