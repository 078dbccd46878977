#include "libs/events/customer_event.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crm::events {
namespace {

// crm.customer_store.v1.LifecycleStage, index = number.
constexpr std::array<const char*, 7> kStages{"unspecified", "subscriber",      "lead",   "prospect",
                                             "customer",    "repeat_customer", "churned"};

// The payload's "profile" object (docs/events.md) into segment-language names;
// false for an integer attribute that is not an integer (other malformed
// parts throw).
bool ReadProfile(const nlohmann::json& p, CustomerChange& c) {
  for (const char* name :
       {"country", "region", "city", "postal_code", "locale", "time_zone", "owner"}) {
    std::string v = p.at(name).get<std::string>();
    if (!v.empty()) c.profile[absl::StrCat("profile.", name)] = std::move(v);
  }
  const int64_t stage = p.at("lifecycle_stage").get<int64_t>();
  c.profile["profile.lifecycle_stage"] =
      std::string(stage >= 0 && stage < static_cast<int64_t>(kStages.size())
                      ? kStages[static_cast<size_t>(stage)]
                      : "unspecified");
  for (const auto& [name, v] : p.at("attributes").items()) {
    const std::string field = absl::StrCat("attr.", name);
    if (v.contains("s")) {
      c.profile[field] = v.at("s").get<std::string>();
    } else if (v.contains("i")) {
      int64_t i = 0;
      if (!absl::SimpleAtoi(v.at("i").get<std::string>(), &i)) return false;
      c.profile[field] = static_cast<double>(i);
    } else if (v.contains("d")) {
      c.profile[field] = v.at("d").get<double>();
    } else if (v.contains("b")) {
      c.profile[field] = v.at("b").get<bool>();
    }  // "t" (a time): the language has no time values
  }
  c.has_profile = true;
  return true;
}

}  // namespace

absl::StatusOr<std::optional<CustomerChange>> CustomerChangeOf(
    const crm::events::v1::EventEnvelope& e) {
  CustomerChange c;
  if (e.type() == "customer.created") {
    c.kind = CustomerChange::Kind::kCreated;
  } else if (e.type() == "customer.updated") {
    c.kind = CustomerChange::Kind::kUpdated;
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
      case CustomerChange::Kind::kUpdated:
        if (p.contains("version")) c.version = p.at("version").get<int64_t>();
        if (p.contains("profile") && !ReadProfile(p.at("profile"), c)) {
          return absl::InvalidArgumentError(
              absl::StrCat(e.type(), " with an integer attribute that is not an integer"));
        }
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
