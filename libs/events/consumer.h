#pragma once
// Consumer side of the event backbone (docs/events.md): reads the partition
// streams <stream_prefix><N> written by the outbox relay (libs/outbox/relay.h)
// with one Redis consumer group per consuming service.
//
// One PollOnce():
//   1. (first poll of this Consumer object only) its own pending entries,
//      XREADGROUP ... 0: what a previous process with the same consumer name
//      read but never acknowledged;
//   2. XAUTOCLAIM of entries of the group idle longer than claim_idle (stuck at
//      a dead consumer, or failed here earlier: a failed entry is retried by
//      whoever claims it first, this consumer included);
//   3. new entries (>), blocking up to `block` when 1 and 2 found nothing.
// Entries of one stream are handled in stream order; an entry whose handler
// fails stays pending and does not hold back the entries after it.
//
// Outcome of an entry:
//   handler OK              -> XACK;
//   handler error           -> left pending, redelivered after claim_idle;
//   error on the max_deliveries-th delivery (or an entry seen with more
//   deliveries, e.g. after crashes mid-handler), or no parsable `envelope`
//   field (poison)          -> XADD to dead_letter_stream with fields
//                              stream, entry_id, group, consumer, deliveries,
//                              error, envelope (raw bytes), then XACK, in one
//                              MULTI/EXEC.
//
// Batches: a Consumer built with a BatchHandler hands the handler every
// entry of one read (own pending, claim or new: at most `batch` entries per
// stream; each stream's entries in stream order, the streams one after the
// other) in ONE call, and acknowledges the ones the handler answered OK with
// one XACK per stream (pipelined). Each entry keeps its own outcome (OK,
// retry, dead letter) as above: an entry that failed does not fail the
// others of its batch. Entries without a parsable envelope, duplicates and
// entries over max_deliveries are settled before the handler is called and
// are not in its batch. stream_workers does not apply (one call per read;
// the handler may parallelize itself).
//
// Deduplication: the relay may publish an event twice (crash between XADD and
// its PostgreSQL commit). Each Consumer keeps an in-memory LRU of the event ids
// it recently handled successfully (dedup_capacity); an entry whose event id
// is in it is acknowledged without calling the handler. That only covers this
// process' lifetime: the durable guarantee across restarts and replicas is
// MarkProcessed() in the handler's own PostgreSQL transaction.
//
// Lost groups: when Redis answers NOGROUP (the stream or the group vanished,
// e.g. Redis restarted with an empty dataset), PollOnce() recreates every
// group at id 0 (MKSTREAM) and returns 0; the next rounds read whatever the
// outbox relay republished (libs/outbox/relay.h), deduplicated as above.
//
// Metrics (when options.metrics is set):
//   crm_events_consumed_total{group,outcome}  outcome = ok|retry|dead|duplicate
//   crm_events_consumer_lag{group,stream}     XINFO GROUPS `lag` (Redis 7),
//                                             refreshed at most once a second
//   crm_events_handle_seconds{group}          handler latency
//   crm_events_group_resets_total{group}      groups found missing and recreated
//
// Threading: PollOnce() is not reentrant; either call it from one thread or
// use Start()/Stop(), which run it in a background thread.
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <pqxx/pqxx>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/redis/redis.h"

namespace prometheus {
class Registry;
}

namespace crm::events {

struct Event {
  std::string stream;    // e.g. "crm:events:p3"
  std::string entry_id;  // stream entry id, e.g. "1700000000000-0"
  crm::events::v1::EventEnvelope envelope;
  int64_t deliveries = 1;  // 1 on first delivery
};

struct ConsumerOptions {
  std::string group;     // consuming service, e.g. "segmentation"
  std::string consumer;  // stable per replica (e.g. pod name): its pending entries survive restarts
  int partitions = 8;    // must match the relay's CRM_EVENT_PARTITIONS
  std::string stream_prefix = "crm:events:p";
  int batch = 100;  // COUNT of each read / claim
  // Must stay below the redis::Pool command timeout (default 1 s).
  absl::Duration block = absl::Milliseconds(200);
  absl::Duration claim_idle = absl::Seconds(30);
  int max_deliveries = 5;
  std::string dead_letter_stream = "crm:events:dead";
  size_t dedup_capacity = 100000;  // event ids remembered by the in-memory LRU
  // New entries of different streams are handled by up to this many threads
  // at once (entries of one stream stay in order on one thread, so one
  // customer's events keep their order). The handler must be thread-safe
  // when this is above 1.
  int stream_workers = 1;
  prometheus::Registry* metrics = nullptr;
};

// OK -> acknowledged; error -> retried, then dead-lettered (see above).
// Exceptions thrown by the handler count as INTERNAL errors.
using Handler = std::function<absl::Status(const Event&)>;
// One status per event, in the order of `events` (the entries of one read;
// each stream's in stream order). An answer of another size, or an
// exception, counts as INTERNAL for every event of the batch.
using BatchHandler = std::function<std::vector<absl::Status>(const std::vector<Event>& events)>;

// Bounded set of recently seen ids, least recently used evicted first.
// Not thread-safe.
class RecentIds final {
 public:
  explicit RecentIds(size_t capacity);
  bool Contains(const std::string& id);  // refreshes the id's recency
  void Insert(const std::string& id);
  size_t size() const { return index_.size(); }

 private:
  size_t capacity_;
  std::list<std::string> order_;  // front = most recent
  std::unordered_map<std::string, std::list<std::string>::iterator> index_;
};

namespace internal {
struct StreamEntry;  // one entry as read from Redis (consumer.cc)
}

class Consumer final {
 public:
  Consumer(redis::Pool& redis, ConsumerOptions options, Handler handler);
  Consumer(redis::Pool& redis, ConsumerOptions options, BatchHandler handler);
  ~Consumer();  // Stop()
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // XGROUP CREATE <stream> <group> 0 MKSTREAM for every partition (an existing
  // group is fine). PollOnce() calls it when needed.
  absl::Status EnsureGroups();
  // One round (see above); returns how many entries it handled (any outcome).
  absl::StatusOr<int> PollOnce();
  // Background loop of PollOnce() with back-off on errors. Stop() returns
  // after the current round (at most `block` plus the handlers' time).
  void Start();
  void Stop();

 private:
  class Metrics;
  using Entry = internal::StreamEntry;
  absl::StatusOr<int> PollRound();
  absl::StatusOr<int> ReadOwnPending();
  absl::StatusOr<int> ClaimStuck();
  absl::StatusOr<int> ReadNew(bool block);
  absl::Status FillDeliveries(const std::string& stream, std::vector<Entry>& entries);
  absl::Status Process(const Entry& e);
  // Process() of each entry, in order.
  absl::StatusOr<int> ProcessEntries(const std::vector<Entry>& entries);
  // The entries of one read: one BatchHandler call for all of them, or
  // ProcessEntries() per stream (in parallel through ProcessStreams() when
  // `parallel`).
  absl::StatusOr<int> ProcessRead(
      const std::vector<std::pair<std::string, std::vector<Entry>>>& per_stream, bool parallel);
  absl::StatusOr<int> ProcessBatch(
      const std::vector<std::pair<std::string, std::vector<Entry>>>& per_stream);
  // Settles an entry that never reaches a handler (deleted, unparsable,
  // duplicate, over max_deliveries): true when settled; `ack` gets the ids
  // to acknowledge. On false, `ev` holds the parsed event.
  absl::StatusOr<bool> Settle(const Entry& e, Event& ev, std::vector<std::string>* ack);
  // The outcome of a handler's answer for one entry (metrics, logs, dead
  // letter); true when it is to be acknowledged.
  absl::StatusOr<bool> Outcome(const Entry& e, const Event& ev, const absl::Status& s);
  // One XACK per stream, pipelined.
  absl::Status AckMany(const std::map<std::string, std::vector<std::string>>& ids);
  // Process() of each stream's entries in order, streams in parallel (up to
  // options_.stream_workers threads); the first error is returned.
  absl::StatusOr<int> ProcessStreams(
      const std::vector<std::pair<std::string, std::vector<Entry>>>& per_stream);
  absl::Status Ack(const std::string& stream, const std::string& id);
  absl::Status DeadLetter(const Entry& e, const std::string& error);
  absl::Status CheckGroupError(const absl::Status& s);
  void MaybeUpdateLag();
  void Loop();
  std::string Stream(int p) const;

  redis::Pool& redis_;
  ConsumerOptions options_;
  Handler handler_;             // one of handler_ and batch_handler_ is set
  BatchHandler batch_handler_;
  std::unique_ptr<Metrics> metrics_;
  absl::Mutex recent_mu_;
  RecentIds recent_ ABSL_GUARDED_BY(recent_mu_);
  bool groups_ready_ = false;
  bool groups_lost_ = false;  // NOGROUP seen: the next EnsureGroups() is a recreation
  bool own_pending_done_ = false;
  std::map<std::string, std::string> claim_cursor_;  // stream -> XAUTOCLAIM cursor
  absl::Time last_lag_update_ = absl::InfinitePast();

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Durable idempotency for handlers that write PostgreSQL. In the handler's
// transaction, records (consumer, event_id) in <schema>.processed_events;
// returns true the first time, false when it is already there (the handler
// must then skip its effect and return OK). `consumer` is normally the
// consumer group. Each consuming service's migration creates the table:
//
//   CREATE TABLE <schema>.processed_events (
//     consumer     text        NOT NULL,
//     event_id     uuid        NOT NULL,
//     processed_at timestamptz NOT NULL DEFAULT now(),
//     PRIMARY KEY (consumer, event_id));
//
// INVALID_ARGUMENT for a schema that is not a plain lower-case identifier or
// an event id that is not a UUID. Database errors are thrown as
// pqxx exceptions, so pg::Pool::WithTx retries conflicts and maps the rest.
absl::StatusOr<bool> MarkProcessed(pqxx::work& tx, const std::string& schema,
                                   const std::string& consumer, const std::string& event_id);

}  // namespace crm::events
