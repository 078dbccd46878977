#pragma once
// What customer-store's consent.recorded event says (docs/events.md): the
// contract its consumers read, with the enum numbers turned into the names
// the segment language uses. Plain values only.
#include <string>

#include "absl/time/time.h"

namespace crm::events {

struct ConsentFact {
  std::string tenant_id;
  std::string event_id;  // the envelope's
  std::string customer_id;
  std::string channel;  // email, sms, push, phone, web
  std::string purpose;  // marketing, transactional, profiling
  std::string status;   // opted_in, opted_out, pending, unknown
  absl::Time recorded_time = absl::InfinitePast();  // the envelope's occurred_at
};

}  // namespace crm::events
