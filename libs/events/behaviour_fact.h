#pragma once
// What customer-store's behaviour.* and customer.identified events say
// (docs/events.md): the contracts their consumers read. Plain values only, so
// consumers' domain and app code may hold them.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace crm::events {

// One tracked behaviour event. The optional properties are "" / 0 / {} when
// not set (the payload leaves them out; a value or quantity of 0 is not set).
struct BehaviourFact {
  std::string tenant_id;
  std::string event_id;     // the behaviour event's id (the payload's event_id)
  std::string type;         // without "behaviour.": "product.viewed", "x.signup"
  std::string customer_id;  // "" when anonymous
  std::string visitor_id;   // "" when none
  absl::Time occurred_time = absl::InfinitePast();
  std::string sku;
  std::vector<std::string> category_path;  // top level first
  double value = 0;
  std::string currency_code;
  int64_t quantity = 0;
  std::string utm_campaign;
};

// customer.identified: the visitor is the customer from now on; its earlier
// anonymous events count for the customer (once per link).
struct CustomerIdentified {
  std::string tenant_id;
  std::string event_id;  // the envelope's
  std::string customer_id;
  std::string visitor_id;
};

// behaviour.settings_updated: the tenant's retention of behaviour events
// (0: kept until erased); the newest version wins.
struct BehaviourRetention {
  std::string tenant_id;
  int64_t retention_days = 0;
  int64_t version = 0;
};

}  // namespace crm::events
