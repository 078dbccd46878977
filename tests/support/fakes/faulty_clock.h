#pragma once
// A Clock that can be told to throw: how a test makes the app layer raise an
// unexpected exception (a bug or a library throwing) behind the gRPC edge.
#include <atomic>
#include <stdexcept>
#include <string>

#include "absl/time/time.h"
#include "libs/common/clock.h"

namespace crm::testing {

class FaultyClock final : public common::Clock {
 public:
  // The text of the exception: tests check that it never reaches a client.
  static constexpr char kSecret[] = "secret detail: pq connection to 10.0.0.7 refused";

  explicit FaultyClock(absl::Time now = absl::FromUnixSeconds(1700000000)) : now_(now) {}
  absl::Time Now() const override {
    if (throwing_.load()) throw std::runtime_error(kSecret);
    return now_;
  }
  void set_throwing(bool throwing) { throwing_.store(throwing); }

 private:
  absl::Time now_;
  std::atomic<bool> throwing_{false};
};

}  // namespace crm::testing
