#pragma once
// What customer-store's customer.* events say about a customer
// (docs/events.md): the contract their consumers read. Plain values only, so
// consumers' domain and app code may hold it.
#include <string>
#include <vector>

namespace crm::events {

struct CustomerChange {
  enum class Kind { kCreated, kErased, kMerged, kUnmerged };
  Kind kind = Kind::kErased;
  std::string tenant_id;
  std::string event_id;
  // created: the new customer; erased: the erased customer; merged /
  // unmerged: the survivor.
  std::string customer_id;
  // merged: the source (merged into customer_id); unmerged: the customer
  // restored from customer_id; otherwise "".
  std::string other_id;
  // erased: customer_id, then every customer merged into it (no repeats;
  // events from before merged ids were listed carry customer_id only).
  std::vector<std::string> erased_ids;
};

}  // namespace crm::events
