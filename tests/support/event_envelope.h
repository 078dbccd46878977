#pragma once
// An event envelope as the event backbone delivers one, for tests of the
// readers of events (libs/events, the engines' consumers): a fixed event id
// and tenant unless given, the type and the JSON payload.
#include <string>

#include "crm/events/v1/envelope.pb.h"

namespace crm::testing {

inline constexpr char kEnvelopeTenant[] = "11111111-1111-4111-8111-111111111111";
inline constexpr char kEnvelopeEventId[] = "44444444-4444-4444-8444-444444444444";

inline crm::events::v1::EventEnvelope EnvelopeOf(const std::string& type,
                                                 const std::string& payload,
                                                 const std::string& tenant = kEnvelopeTenant) {
  crm::events::v1::EventEnvelope e;
  e.set_event_id(kEnvelopeEventId);
  e.set_tenant_id(tenant);
  e.set_type(type);
  e.set_payload_json(payload);
  return e;
}

}  // namespace crm::testing
