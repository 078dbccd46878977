#include "services/transaction/api/customer_events.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"

namespace crm::transaction::api {

namespace {
// customer.erased's customers: customer_id, then erased_customer_ids
// (without repeats; events from before merged ids were listed carry only
// customer_id).
absl::StatusOr<std::vector<std::string>> ErasedIdsOf(const crm::events::v1::EventEnvelope& e) {
  std::vector<std::string> ids;
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    ids.push_back(p.at("customer_id").get<std::string>());
    if (p.contains("erased_customer_ids")) {
      for (const auto& id : p.at("erased_customer_ids")) {
        std::string s = id.get<std::string>();
        if (std::find(ids.begin(), ids.end(), s) == ids.end()) ids.push_back(std::move(s));
      }
    }
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("customer.erased payload is not the documented JSON");
  }
  return ids;
}
}  // namespace

absl::StatusOr<std::optional<CustomerErasure>> CustomerErasureOf(
    const crm::events::v1::EventEnvelope& e) {
  if (e.type() != "customer.erased") return std::optional<CustomerErasure>();
  CustomerErasure x;
  x.tenant_id = e.tenant_id();
  x.event_id = e.event_id();
  CRM_ASSIGN_OR_RETURN(x.customer_ids, ErasedIdsOf(e));
  return std::optional<CustomerErasure>(std::move(x));
}

absl::StatusOr<std::optional<KnownCustomerChange>> KnownCustomerChangeOf(
    const crm::events::v1::EventEnvelope& e) {
  if (e.type() == "customer.erased") {
    KnownCustomerChange x;
    x.tenant_id = e.tenant_id();
    CRM_ASSIGN_OR_RETURN(x.customer_ids, ErasedIdsOf(e));
    return std::optional<KnownCustomerChange>(std::move(x));
  }
  const bool merged = e.type() == "customer.merged";
  if (!merged && e.type() != "customer.unmerged") return std::optional<KnownCustomerChange>();
  KnownCustomerChange x;
  x.tenant_id = e.tenant_id();
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    if (merged) {
      // Whatever read as the source reads as the survivor now.
      x.customer_ids.push_back(p.at("source_customer_id").get<std::string>());
    } else {
      // The restored customer reads as itself again, and so may customers
      // that read as the survivor through it.
      x.customer_ids.push_back(p.at("customer_id").get<std::string>());
      x.customer_ids.push_back(p.at("restored_customer_id").get<std::string>());
    }
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(e.type(), " payload is not the documented JSON"));
  }
  return std::optional<KnownCustomerChange>(std::move(x));
}

void KnownCustomersInvalidator::Handle(const crm::events::v1::EventEnvelope& e) {
  absl::StatusOr<std::optional<KnownCustomerChange>> change = KnownCustomerChangeOf(e);
  if (!change.ok()) {
    // Which customers it names cannot be read: forget the whole tenant
    // (a retry would read it no better).
    CRM_LOG(Warning).Field("event_id", e.event_id()).Field("type", e.type())
        << "known customers: " << change.status().message() << "; the tenant's entries forgotten";
    known_.ForgetTenant(e.tenant_id());
    return;
  }
  if (*change) known_.Forget((*change)->tenant_id, (*change)->customer_ids);
}

void KnownCustomersInvalidator::HandleBatch(const std::vector<events::Event>& batch) {
  for (const events::Event& e : batch) Handle(e.envelope);
}

std::vector<absl::Status> CustomerEventHandler::HandleBatch(
    const std::vector<events::Event>& batch) {
  std::vector<absl::Status> out;
  out.reserve(batch.size());
  for (const events::Event& e : batch) out.push_back(Handle(e.envelope));
  return out;
}

absl::Status CustomerEventHandler::Handle(const crm::events::v1::EventEnvelope& e) {
  CRM_ASSIGN_OR_RETURN(std::optional<CustomerErasure> erasure, CustomerErasureOf(e));
  if (!erasure) return absl::OkStatus();
  if (known_ != nullptr) known_->Forget(erasure->tenant_id, erasure->customer_ids);
  CRM_ASSIGN_OR_RETURN(app::PipelineErasure done,
                       pipeline_.EraseCustomer(erasure->tenant_id, kConsumerGroup,
                                               erasure->event_id, erasure->customer_ids));
  if (done.applied) {
    CRM_LOG(Info)
            .Field("event_id", erasure->event_id)
            .Field("leads", done.leads)
            .Field("opportunities", done.opportunities)
        << "customer erased from the sales pipeline";
  }
  return absl::OkStatus();
}

}  // namespace crm::transaction::api
