#pragma once
// Reading a consumer's batch of events into one list of facts: each event is
// tried with the decoders of the kinds a consumer keeps (OrderFactOf,
// BehaviourFactsOf, ...), and where[k] tells which event fact k came from,
// so the consumer can answer one status per event.
#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "libs/events/consumer.h"

namespace crm::events {

// Reads event `i` with `decode` (one fact per event): false when it is not of
// decode's kind; otherwise the fact is appended (its event in `where`) or
// `status` says why it cannot be read.
template <typename Fact, typename Decode>
bool ReadFact(Decode decode, const std::vector<Event>& batch, std::size_t i,
              std::vector<Fact>& facts, std::vector<std::size_t>& where, absl::Status& status) {
  auto fact = decode(batch[i].envelope);
  if (!fact.ok()) {
    status = fact.status();
    return true;
  }
  if (!*fact) return false;
  facts.emplace_back(**std::move(fact));
  where.push_back(i);
  return true;
}

// The same for a decoder of several facts per event (behaviour batches).
template <typename Fact, typename Decode>
bool ReadFacts(Decode decode, const std::vector<Event>& batch, std::size_t i,
               std::vector<Fact>& facts, std::vector<std::size_t>& where, absl::Status& status) {
  auto many = decode(batch[i].envelope);
  if (!many.ok()) {
    status = many.status();
    return true;
  }
  if (!*many) return false;
  for (auto& f : **many) {
    facts.emplace_back(std::move(f));
    where.push_back(i);
  }
  return true;
}

}  // namespace crm::events
