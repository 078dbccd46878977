// The relay's in-process wake-up (libs/outbox/wakeup.h).
#include "libs/outbox/wakeup.h"

#include <catch2/catch.hpp>
#include <thread>

#include "absl/time/clock.h"

namespace {

using crm::outbox::Wakeup;
using crm::outbox::WakeupFor;

TEST_CASE("Wakeup::Wait returns at a Notify, or at its timeout", "[outbox][wakeup]") {
  Wakeup w;
  SECTION("a notify after the generation was read wakes the waiter at once") {
    uint64_t seen = w.generation();
    std::thread notifier([&w] {
      absl::SleepFor(absl::Milliseconds(20));
      w.Notify();
    });
    absl::Time start = absl::Now();
    w.Wait(seen, absl::Seconds(10));
    CHECK(absl::Now() - start < absl::Seconds(5));
    notifier.join();
  }
  SECTION("a notify that came before the wait is not lost") {
    uint64_t seen = w.generation();
    w.Notify();
    absl::Time start = absl::Now();
    w.Wait(seen, absl::Seconds(10));
    CHECK(absl::Now() - start < absl::Seconds(1));
  }
  SECTION("without a notify the wait times out") {
    absl::Time start = absl::Now();
    w.Wait(w.generation(), absl::Milliseconds(50));
    CHECK(absl::Now() - start >= absl::Milliseconds(45));
  }
}

TEST_CASE("WakeupFor gives one wake-up per schema", "[outbox][wakeup]") {
  CHECK(&WakeupFor("txn") == &WakeupFor("txn"));
  CHECK(&WakeupFor("txn") != &WakeupFor("customer_store"));
}

}  // namespace
