#pragma once
// What delivery's message.* events say about a message to a customer
// (docs/events.md): the contract their consumers read. Plain values only, so
// consumers' domain and app code may hold it.
#include <string>

#include "absl/time/time.h"

namespace crm::events {

struct MessageEvent {
  std::string tenant_id;
  std::string event_id;  // the envelope's
  std::string kind;      // "sent", "opened", "clicked", "unsubscribed", "converted"
  std::string message_id;
  std::string customer_id;
  std::string channel;  // "email", "webhook"
  std::string purpose;  // "transactional", "marketing"
  std::string template_id;
  std::string campaign_id;                          // "" for a message of its own
  std::string ticket_id;                            // a mail of the service desk's ticket
  std::string order_id;                             // converted
  absl::Time occurred_time = absl::InfinitePast();  // the envelope's commit time
};

}  // namespace crm::events
