#include "libs/common/executor.h"

#include <catch2/catch.hpp>
#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

using crm::common::Executor;

TEST_CASE("Executor runs tasks on its workers", "[common][executor]") {
  std::atomic<int> ran{0};
  {
    Executor ex(2, 100);
    CHECK(ex.max_queue() == 100);
    for (int i = 0; i < 50; ++i) REQUIRE(ex.TrySubmit([&] { ran.fetch_add(1); }));
    ex.Drain();
    CHECK(ran.load() == 50);
    CHECK(ex.queue_depth() == 0);
    CHECK_FALSE(ex.TrySubmit([&] { ran.fetch_add(1); }));  // draining refuses new work
    ex.Drain();                                             // idempotent
  }
  CHECK(ran.load() == 50);
}

TEST_CASE("Executor reports a full queue and Drain runs queued work", "[common][executor]") {
  Executor ex(1, 3);
  absl::Notification started, release;
  std::atomic<int> ran{0};
  std::atomic<int> observed{-1};  // the depth the observer was told last
  ex.SetDepthObserver([&](size_t d) { observed.store(static_cast<int>(d)); });
  CHECK(observed.load() == 0);
  REQUIRE(ex.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
    ran.fetch_add(1);
  }));
  REQUIRE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // The only worker is busy: the queue fills up.
  for (int i = 0; i < 3; ++i) REQUIRE(ex.TrySubmit([&] { ran.fetch_add(1); }));
  CHECK(ex.queue_depth() == 3);
  CHECK(observed.load() == 3);
  CHECK_FALSE(ex.TrySubmit([&] { ran.fetch_add(100); }));
  release.Notify();
  ex.Drain();
  CHECK(ran.load() == 4);
  CHECK(ex.queue_depth() == 0);
  CHECK(observed.load() == 0);  // an idle executor reports an empty queue, not the last sample
}

}  // namespace
