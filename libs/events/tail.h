#pragma once
// Every event, to every process: reads the partition streams
// <stream_prefix><N> with plain XREAD (no consumer group), from the moment
// it starts. Nothing is acknowledged, pending, retried or dead-lettered, and
// the reader does not hold back the relay's trimming (libs/outbox/relay.h
// trims below what consumer *groups* still need). For state a process
// derives for itself from events (a cache to invalidate); durable effects
// belong in a Consumer.
//
// Where it starts: the first PollOnce() reads each stream's last entry id
// (XREVRANGE + - COUNT 1), then calls `on_gap`: the process must drop
// whatever it derived before that point, since events before it are not
// delivered. After any Redis error the next poll starts over the same way
// (the events during the outage are not delivered; `on_gap` again).
//
// Threading: PollOnce() is not reentrant; Start()/Stop() run it in a
// background thread. The handlers run on that thread.
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/events/consumer.h"
#include "libs/redis/redis.h"

namespace crm::events {

struct TailOptions {
  int partitions = 8;  // must match the relay's CRM_EVENT_PARTITIONS
  std::string stream_prefix = "crm:events:p";
  int batch = 100;  // COUNT per stream and read
  // Must stay below the redis::Pool command timeout (default 1 s).
  absl::Duration block = absl::Milliseconds(200);
};

class StreamTail final {
 public:
  // `on_events`: the entries of one stream of one read, in stream order
  // (entries without a parsable envelope are skipped). `on_gap`: see above.
  using EventsHandler = std::function<void(const std::vector<Event>&)>;
  StreamTail(redis::Pool& redis, TailOptions options, EventsHandler on_events,
             std::function<void()> on_gap);
  ~StreamTail();  // Stop()
  StreamTail(const StreamTail&) = delete;
  StreamTail& operator=(const StreamTail&) = delete;

  // One read (blocking up to `block`); returns how many entries it read.
  absl::StatusOr<int> PollOnce();
  void Start();
  void Stop();

 private:
  absl::Status Position();
  void Loop();

  redis::Pool& redis_;
  TailOptions options_;
  EventsHandler on_events_;
  std::function<void()> on_gap_;
  std::vector<std::string> streams_;
  std::vector<std::string> last_ids_;  // empty until positioned
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace crm::events
