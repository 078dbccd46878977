#pragma once
// Identifiers: random UUIDv4 strings and their validation.
#include <string>
#include <string_view>

namespace crm::common {

// A new random (version 4) UUID in canonical lower-case form.
std::string NewUuid();
// True for a canonical 36-character UUID (any version, either case).
bool IsUuid(std::string_view s);
// A site's anonymous visitor id (customer-store's behaviour events, the
// service desk's tickets): 1..128 of [A-Za-z0-9._:-].
inline constexpr size_t kMaxVisitorIdBytes = 128;
bool IsVisitorId(std::string_view s);

// The event backbone's partition of a key (a customer id, or the tenant id
// of an event without a customer): FNV-1a (32 bit) of its bytes modulo
// `partitions` (0 when partitions <= 0). The outbox relay routes by it and
// partitioned consumers (segmentation replicas) own customers by it.
int PartitionOf(std::string_view key, int partitions);

// Port for tests that need deterministic ids.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string NewId() = 0;
};

class RandomIdGenerator final : public IdGenerator {
 public:
  std::string NewId() override { return NewUuid(); }
};

}  // namespace crm::common
