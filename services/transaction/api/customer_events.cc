#include "services/transaction/api/customer_events.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "libs/common/status_macros.h"
#include "libs/observability/log.h"

namespace crm::transaction::api {

absl::StatusOr<std::optional<CustomerErasure>> CustomerErasureOf(
    const crm::events::v1::EventEnvelope& e) {
  if (e.type() != "customer.erased") return std::optional<CustomerErasure>();
  CustomerErasure x;
  x.tenant_id = e.tenant_id();
  x.event_id = e.event_id();
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    x.customer_ids.push_back(p.at("customer_id").get<std::string>());
    // Events from before merged ids were listed carry only customer_id.
    if (p.contains("erased_customer_ids")) {
      for (const auto& id : p.at("erased_customer_ids")) {
        std::string s = id.get<std::string>();
        if (std::find(x.customer_ids.begin(), x.customer_ids.end(), s) == x.customer_ids.end()) {
          x.customer_ids.push_back(std::move(s));
        }
      }
    }
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("customer.erased payload is not the documented JSON");
  }
  return std::optional<CustomerErasure>(std::move(x));
}

absl::Status CustomerEventHandler::Handle(const crm::events::v1::EventEnvelope& e) {
  CRM_ASSIGN_OR_RETURN(std::optional<CustomerErasure> erasure, CustomerErasureOf(e));
  if (!erasure) return absl::OkStatus();
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
