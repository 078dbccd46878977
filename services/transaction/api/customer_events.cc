#include "services/transaction/api/customer_events.h"

#include "libs/common/status_macros.h"
#include "libs/events/customer_event.h"
#include "libs/observability/log.h"

namespace crm::transaction::api {

absl::StatusOr<std::optional<CustomerErasure>> CustomerErasureOf(
    const crm::events::v1::EventEnvelope& e) {
  // Only erasures are read: another customer event, well-formed or not, is not ours.
  if (e.type() != "customer.erased") return std::optional<CustomerErasure>();
  CRM_ASSIGN_OR_RETURN(std::optional<events::CustomerChange> c, events::CustomerChangeOf(e));
  if (!c || c->kind != events::CustomerChange::Kind::kErased) {
    return std::optional<CustomerErasure>();
  }
  CustomerErasure x;
  x.tenant_id = std::move(c->tenant_id);
  x.event_id = std::move(c->event_id);
  x.customer_ids = std::move(c->erased_ids);
  return std::optional<CustomerErasure>(std::move(x));
}

absl::StatusOr<std::optional<KnownCustomerChange>> KnownCustomerChangeOf(
    const crm::events::v1::EventEnvelope& e) {
  // Creations and updates change no customer's identity: not read (their
  // payloads are not ours to check).
  if (e.type() == "customer.created" || e.type() == "customer.updated") {
    return std::optional<KnownCustomerChange>();
  }
  CRM_ASSIGN_OR_RETURN(std::optional<events::CustomerChange> c, events::CustomerChangeOf(e));
  if (!c || c->kind == events::CustomerChange::Kind::kCreated ||
      c->kind == events::CustomerChange::Kind::kUpdated) {
    return std::optional<KnownCustomerChange>();
  }
  KnownCustomerChange x;
  x.tenant_id = c->tenant_id;
  switch (c->kind) {
    case events::CustomerChange::Kind::kCreated:
    case events::CustomerChange::Kind::kUpdated:
      break;
    case events::CustomerChange::Kind::kErased:
      x.customer_ids = std::move(c->erased_ids);
      break;
    case events::CustomerChange::Kind::kMerged:
      // Whatever read as the source reads as the survivor now.
      x.customer_ids.push_back(c->other_id);
      break;
    case events::CustomerChange::Kind::kUnmerged:
      // The restored customer reads as itself again, and so may customers
      // that read as the survivor through it.
      x.customer_ids.push_back(c->customer_id);
      x.customer_ids.push_back(c->other_id);
      break;
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
