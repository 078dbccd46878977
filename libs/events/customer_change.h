#pragma once
// What customer-store's customer.* events say about a customer
// (docs/events.md): the contract their consumers read. Plain values only, so
// consumers' domain and app code may hold it.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace crm::events {

// A profile field or custom attribute as the segment language reads it.
using ProfileValue = std::variant<double, std::string, bool>;

struct CustomerChange {
  enum class Kind { kCreated, kUpdated, kErased, kMerged, kUnmerged };
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
  // created / updated: the customer's version and the profile fields the
  // segment language reads, by its names: profile.country, profile.region,
  // profile.city, profile.postal_code, profile.locale, profile.time_zone,
  // profile.owner (each only when not empty), profile.lifecycle_stage (the
  // stage's name: "customer", ...), attr.<name> (string, number or bool; an
  // integer becomes a number, a time attribute is left out). has_profile is
  // false for events written before the payload carried the profile.
  int64_t version = 0;
  bool has_profile = false;
  std::map<std::string, ProfileValue> profile;
};

}  // namespace crm::events
