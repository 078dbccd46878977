#pragma once
// Deterministic Clock and IdGenerator for use-case tests.
#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"

namespace crm::testing {

// A Clock that only moves when told to.
class FixedClock final : public common::Clock {
 public:
  explicit FixedClock(absl::Time now = absl::FromUnixSeconds(1700000000)) : now_(now) {}
  absl::Time Now() const override { return now_; }
  void Set(absl::Time t) { now_ = t; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_;
};

// Returns "00000000-0000-4000-8000-000000000001", "...002", ... (valid v4 shape).
class SequentialIdGenerator final : public common::IdGenerator {
 public:
  explicit SequentialIdGenerator(uint64_t first = 1) : next_(first) {}
  std::string NewId() override {
    ++issued_;
    return IdFor(next_++);
  }
  static std::string IdFor(uint64_t n) {
    return absl::StrFormat("00000000-0000-4000-8000-%012x", n);
  }
  uint64_t issued() const { return issued_; }

 private:
  uint64_t next_;
  uint64_t issued_ = 0;
};

}  // namespace crm::testing
