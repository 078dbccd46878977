#pragma once
// Internal to libs/events: one stream entry as read from Redis, and the
// parser of an XREAD / XREADGROUP reply (consumer.cc, tail.cc).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/redis/redis.h"

namespace crm::events::internal {

struct StreamEntry {
  std::string stream;
  std::string id;
  bool deleted = false;                 // pending, but gone from the stream
  std::optional<std::string> envelope;  // raw `envelope` field
  int64_t deliveries = 1;
};

// [[stream, [[id, [field, value, ...] | nil], ...]], ...] or nil (a BLOCK that
// timed out): the entries of each stream, in order.
absl::StatusOr<std::vector<std::pair<std::string, std::vector<StreamEntry>>>> ParseRead(
    const redis::Reply& reply);

}  // namespace crm::events::internal
