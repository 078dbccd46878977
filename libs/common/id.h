#pragma once
// Identifiers: random UUIDv4 strings and their validation.
#include <string>
#include <string_view>

namespace crm::common {

// A new random (version 4) UUID in canonical lower-case form.
std::string NewUuid();
// True for a canonical 36-character UUID (any version, either case).
bool IsUuid(std::string_view s);

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
