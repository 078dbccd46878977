#include "services/gateway/domain/permissions.h"

#include <map>
#include <set>

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

const std::map<std::string, RoleSet, std::less<>>& Table() {
  static const auto* table = new std::map<std::string, RoleSet, std::less<>>{
      {"/crm.customer_store.v1.CustomerStoreService/CreateCustomer", kWriters},
      {"/crm.customer_store.v1.CustomerStoreService/GetCustomer", kEveryRole},
      {"/crm.customer_store.v1.CustomerStoreService/UpdateCustomer", kWriters},
      {"/crm.customer_store.v1.CustomerStoreService/DeleteCustomer", kPrivacy},
      {"/crm.customer_store.v1.CustomerStoreService/ListCustomers", kEveryRole},
      {"/crm.customer_store.v1.CustomerStoreService/SearchCustomers", kEveryRole},
      {"/crm.customer_store.v1.CustomerStoreService/UpsertCustomer", kWriters},
      {"/crm.customer_store.v1.CustomerStoreService/MergeCustomers", kWriters},
      {"/crm.customer_store.v1.CustomerStoreService/ImportCustomers", kImporters},
      {"/crm.customer_store.v1.CustomerStoreService/ImportCustomersNdjson", kImporters},
      {"/crm.customer_store.v1.CustomerStoreService/UnmergeCustomer", kWriters},
      {"/crm.customer_store.v1.CustomerStoreService/GetCustomerView", kEveryRole},
      {"/crm.customer_store.v1.CustomerStoreService/ExportCustomer", kPrivacy},
      {"/crm.customer_store.v1.CustomerStoreService/ListConsents", kEveryRole},
      {"/crm.customer_store.v1.CustomerStoreService/RecordConsent", kWriters},
      {"/crm.customer_store.v1.CustomerStoreService/ListInteractions", kEveryRole},
      {"/crm.customer_store.v1.CustomerStoreService/CreateInteraction", kWriters},
      // Internal: engines call customer-store directly; no API key may.
      {"/crm.customer_store.v1.CustomerStoreService/ResolveCustomerRefs", kNobody},
      {"/crm.transaction.v1.TransactionService/CreateProduct", kCatalogWriters},
      {"/crm.transaction.v1.TransactionService/GetProduct", kEveryRole},
      {"/crm.transaction.v1.TransactionService/UpdateProduct", kCatalogWriters},
      {"/crm.transaction.v1.TransactionService/ListProducts", kEveryRole},
      {"/crm.transaction.v1.TransactionService/BatchUpsertProducts", kCatalogWriters},
      {"/crm.transaction.v1.TransactionService/CreateOrder", kOrderWriters},
      {"/crm.transaction.v1.TransactionService/GetOrder", kEveryRole},
      {"/crm.transaction.v1.TransactionService/ListOrders", kEveryRole},
      {"/crm.transaction.v1.TransactionService/TransitionOrder", kOrderWriters},
      {"/crm.transaction.v1.ErpIntegrationService/IngestOrders", kImporters},
      {"/crm.transaction.v1.ErpIntegrationService/ExportOrders", kImporters},
      {"/crm.transaction.v1.TransactionService/RecordPayment", kOrderWriters},
      {"/crm.transaction.v1.TransactionService/UpdatePaymentStatus", kOrderWriters},
      {"/crm.transaction.v1.TransactionService/ListPayments", kEveryRole},
      {"/crm.transaction.v1.TransactionService/CreateReturn", kOrderWriters},
      {"/crm.transaction.v1.TransactionService/ListReturns", kEveryRole},
      {"/crm.transaction.v1.TransactionService/CreateRefund", kOrderWriters},
      {"/crm.transaction.v1.TransactionService/UpdateRefundStatus", kOrderWriters},
      {"/crm.transaction.v1.TransactionService/ListRefunds", kEveryRole},
      {"/crm.transaction.v1.TransactionService/GetOrderSettings", kEveryRole},
      {"/crm.transaction.v1.TransactionService/UpdateOrderSettings", kAdmins},
      {"/crm.transaction.v1.PipelineService/CreateLead", kPipelineWriters},
      {"/crm.transaction.v1.PipelineService/GetLead", kEveryRole},
      {"/crm.transaction.v1.PipelineService/ListLeads", kEveryRole},
      {"/crm.transaction.v1.PipelineService/UpdateLead", kPipelineWriters},
      {"/crm.transaction.v1.PipelineService/ConvertLead", kPipelineWriters},
      {"/crm.transaction.v1.PipelineService/CreateOpportunity", kPipelineWriters},
      {"/crm.transaction.v1.PipelineService/GetOpportunity", kEveryRole},
      {"/crm.transaction.v1.PipelineService/ListOpportunities", kEveryRole},
      {"/crm.transaction.v1.PipelineService/UpdateOpportunity", kPipelineWriters},
      {"/crm.transaction.v1.PipelineService/MoveOpportunityStage", kPipelineWriters},
      {"/crm.transaction.v1.PipelineService/CloseOpportunity", kPipelineWriters},
      {"/crm.transaction.v1.PipelineService/GetStageHistory", kEveryRole},
      {"/crm.transaction.v1.PipelineService/GetStageProbabilities", kEveryRole},
      {"/crm.transaction.v1.PipelineService/UpdateStageProbabilities", kAdmins},
      {"/crm.transaction.v1.PipelineService/Forecast", kEveryRole},
      {"/crm.gateway.v1.AdminService/CreateTenant", kPlatform},
      {"/crm.gateway.v1.AdminService/CreateApiKey", kAdmins},
      {"/crm.gateway.v1.AdminService/ListApiKeys", kAdmins},
      {"/crm.gateway.v1.AdminService/RevokeApiKey", kAdmins},
  };
  return *table;
}

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

bool IsKnownMethod(absl::string_view full_method) {
  return Table().find(full_method) != Table().end();
}

bool IsAllowed(const std::vector<Role>& roles, absl::string_view full_method) {
  auto it = Table().find(full_method);
  if (it == Table().end()) return false;
  for (Role r : roles) {
    if (it->second.count(r)) return true;
  }
  return false;
}

}  // namespace crm::gateway::domain
