#include "libs/events/consent_event.h"

#include <array>
#include <nlohmann/json.hpp>

namespace crm::events {
namespace {

// The enum numbers of crm.customer_store.v1.ConsentChannel / Purpose /
// Status, index = number; "" = not a value an event may carry.
constexpr std::array<const char*, 6> kChannels{"", "email", "sms", "push", "phone", "web"};
constexpr std::array<const char*, 4> kPurposes{"", "marketing", "transactional", "profiling"};
constexpr std::array<const char*, 4> kStatuses{"unknown", "opted_in", "opted_out", "pending"};

template <size_t N>
const char* NameOf(const std::array<const char*, N>& names, const nlohmann::json& v) {
  if (!v.is_number_integer()) return "";
  const int64_t n = v.get<int64_t>();
  return n >= 0 && n < static_cast<int64_t>(N) ? names[static_cast<size_t>(n)] : "";
}

}  // namespace

absl::StatusOr<std::optional<ConsentFact>> ConsentFactOf(const crm::events::v1::EventEnvelope& e) {
  if (e.type() != "consent.recorded") return std::optional<ConsentFact>();
  ConsentFact f;
  f.tenant_id = e.tenant_id();
  f.event_id = e.event_id();
  f.recorded_time = absl::FromUnixSeconds(e.occurred_at().seconds()) +
                    absl::Nanoseconds(e.occurred_at().nanos());
  try {
    nlohmann::json p = nlohmann::json::parse(e.payload_json());
    f.customer_id = p.at("customer_id").get<std::string>();
    f.channel = NameOf(kChannels, p.at("channel"));
    f.purpose = NameOf(kPurposes, p.at("purpose"));
    f.status = NameOf(kStatuses, p.at("status"));
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("consent.recorded payload is not the documented JSON");
  }
  if (f.channel.empty() || f.purpose.empty()) {
    return absl::InvalidArgumentError("consent.recorded with an unknown channel or purpose");
  }
  if (f.status.empty() || f.status == std::string("unknown")) {
    return absl::InvalidArgumentError("consent.recorded with an unknown status");
  }
  return std::optional<ConsentFact>(std::move(f));
}

}  // namespace crm::events
