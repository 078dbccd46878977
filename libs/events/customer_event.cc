#include "libs/events/customer_event.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace crm::events {

absl::StatusOr<std::optional<CustomerChange>> CustomerChangeOf(
    const crm::events::v1::EventEnvelope& e) {
  CustomerChange c;
  if (e.type() == "customer.created") {
    c.kind = CustomerChange::Kind::kCreated;
  } else if (e.type() == "customer.erased") {
    c.kind = CustomerChange::Kind::kErased;
  } else if (e.type() == "customer.merged") {
    c.kind = CustomerChange::Kind::kMerged;
  } else if (e.type() == "customer.unmerged") {
    c.kind = CustomerChange::Kind::kUnmerged;
  } else {
    return std::optional<CustomerChange>();
  }
  c.tenant_id = e.tenant_id();
  c.event_id = e.event_id();
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    c.customer_id = p.at("customer_id").get<std::string>();
    switch (c.kind) {
      case CustomerChange::Kind::kCreated:
        break;
      case CustomerChange::Kind::kErased:
        c.erased_ids.push_back(c.customer_id);
        if (p.contains("erased_customer_ids")) {
          for (const auto& id : p.at("erased_customer_ids")) {
            std::string s = id.get<std::string>();
            if (std::find(c.erased_ids.begin(), c.erased_ids.end(), s) == c.erased_ids.end()) {
              c.erased_ids.push_back(std::move(s));
            }
          }
        }
        break;
      case CustomerChange::Kind::kMerged:
        c.other_id = p.at("source_customer_id").get<std::string>();
        break;
      case CustomerChange::Kind::kUnmerged:
        c.other_id = p.at("restored_customer_id").get<std::string>();
        break;
    }
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(e.type(), " payload is not the documented JSON"));
  }
  return std::optional<CustomerChange>(std::move(c));
}

}  // namespace crm::events
