#pragma once
// Transactional-outbox relay: publishes unpublished rows of <schema>.outbox to
// Redis Streams and stamps them published, in one PostgreSQL transaction per
// batch (rows locked FOR UPDATE SKIP LOCKED, so several replicas can relay).
// Publish first, stamp second: a crash in between publishes again, which is
// why consumers deduplicate by event_id. Streams are partitioned by customer
// (crm:events:p<N>) so one customer's events keep their order. Each entry
// carries the flat fields of docs/events.md plus `envelope`, a binary
// crm.events.v1.EventEnvelope (schema_version 1) that consumers parse.
//
// Trimming: the relay loop calls TrimStreams() at most every trim_interval. A
// stream is trimmed exactly (XTRIM MINID) below the oldest entry that some
// consumer group still needs, so nothing pending or undelivered is ever
// dropped; a stream without consumer groups is never trimmed.
//
// Redis data loss (docs/events.md, "Republish after Redis data loss"): the
// relay keeps an epoch key in Redis (epoch_key, default
// crm:events:epoch:<schema>) holding a random token. Every batch is added by
// one Lua script that XADDs only while the key holds the token this relay
// knows, and the loop checks the key when idle (at most every
// epoch_check_interval). When the key is missing, Redis lost its data (a
// restart with an empty dataset): under an exclusive PostgreSQL advisory lock
// (one republisher per schema; publishing batches hold it shared, so none is
// in flight) the relay sets the key to "republishing:<token>", republishes
// every row stamped within replay_window in outbox id order, and sets the key
// to <token> (compare-and-set). A batch that finds another epoch than the one
// this relay last saw adds nothing and is rolled back (published after the
// check), so no stamped event escapes the republish and the streams keep
// outbox order. Other replicas adopt the new token. For 5 minutes after a
// republish of at least one row (or adopting a new token) the loop does not
// trim: consumer groups not recreated yet cannot protect their entries.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/pg/pool.h"
#include "libs/redis/redis.h"

namespace prometheus {
class Registry;
}

namespace crm::outbox {

struct RelayOptions {
  std::string schema;    // e.g. "customer_store"
  std::string producer;  // e.g. "customer-store"
  int partitions = 8;
  int batch_size = 500;
  absl::Duration idle_poll = absl::Milliseconds(50);
  // Passes woken by commits start at most this often: under load the
  // commits of this interval share one pass (one transaction and one Redis
  // call) instead of one pass each; a commit after a quiet spell is
  // published at once. Adds at most this much to the commit -> stream
  // latency. Zero: a pass per wake-up. CRM_OUTBOX_RELAY_MIN_INTERVAL.
  absl::Duration min_pass_interval = absl::Milliseconds(10);
  // Streams are <stream_prefix><N>, N in [0, partitions). Tests use their own
  // prefix; every service must use the default.
  std::string stream_prefix = "crm:events:p";
  // The loop runs TrimStreams() at most this often.
  absl::Duration trim_interval = absl::Seconds(30);
  // Redis data-loss detection and republish (see the top of this file).
  // Empty: "crm:events:epoch:<schema>".
  std::string epoch_key;
  // Rows stamped published within this window are republished after a loss;
  // zero republishes nothing (the epoch is only re-created). The purge
  // (purge.h, outbox_keep) deletes published rows older than the window plus
  // an hour, so a republish finds every row it needs.
  absl::Duration replay_window = absl::Hours(24);
  // When idle, the loop GETs the epoch key at most this often (each publish
  // batch checks it anyway).
  absl::Duration epoch_check_interval = absl::Seconds(1);
  prometheus::Registry* metrics = nullptr;
};

// Reads CRM_OUTBOX_REPLAY_WINDOW (a duration such as 24h or 90m) into
// options.replay_window and CRM_OUTBOX_RELAY_MIN_INTERVAL (e.g. 10ms, at
// most 1s) into options.min_pass_interval; INVALID_ARGUMENT when one does
// not parse or is out of range.
absl::Status ApplyRelayEnvironment(RelayOptions& options);

// Stream key of a customer's partition (FNV-1a of the customer id).
std::string StreamFor(const std::string& customer_id, int partitions,
                      std::string_view prefix = "crm:events:p");

// ---- Trim threshold (pure logic, exposed for tests) ----
// A stream entry id "<ms>-<seq>".
struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
};
std::optional<StreamId> ParseStreamId(std::string_view text);
std::string FormatStreamId(StreamId id);
bool operator<(const StreamId& a, const StreamId& b);
// The smallest id greater than `id` ("5-3" -> "5-4").
StreamId NextStreamId(StreamId id);

// What one consumer group of a stream still needs (XINFO GROUPS + XPENDING).
struct GroupPosition {
  std::string name;
  std::string last_delivered_id;            // XINFO GROUPS last-delivered-id
  std::optional<std::string> oldest_pending;  // XPENDING summary min id; none when nothing pending
};
// The id below which no group needs anything: the minimum over groups of
// min(oldest pending, next id after last-delivered-id). nullopt (do not trim)
// when there is no group or any id does not parse.
std::optional<std::string> TrimThreshold(const std::vector<GroupPosition>& groups);

class Relay final {
 public:
  Relay(pg::Pool& pg, redis::Pool& redis, RelayOptions options);
  ~Relay();
  // One batch; returns how many events were published. Checks the epoch
  // first when this relay has not seen a valid one yet (CheckEpoch()), and
  // publishes nothing (returns 0) while another replica republishes.
  absl::StatusOr<int> RelayOnce();
  // GETs the epoch key: the token this relay knows -> 0; a completed token it
  // does not know (first sight, or another replica republished) -> adopted,
  // 0; missing or an unfinished republish -> republishes (see above) unless
  // another replica holds the lock. Returns how many events it republished.
  absl::StatusOr<int64_t> CheckEpoch();
  // The epoch token this relay last saw ("" before the first check).
  const std::string& epoch() const { return epoch_; }
  // Trims every partition stream below TrimThreshold() of its groups with
  // XTRIM <stream> MINID <id> (exact). Streams without groups are left alone.
  // Returns how many entries were removed. Safe to run from several replicas.
  // Caveat: a consumer group created (at id 0) after a trim only sees what
  // remains, and XGROUP SETID to an older id is not protected against.
  absl::StatusOr<int64_t> TrimStreams();
  void Start();  // background loop
  void Stop();

 private:
  class Metrics;
  void Loop();
  absl::StatusOr<int64_t> Republish();
  // XADDs every row (atomically, one Lua script) only while the epoch key
  // holds `epoch`; false (nothing added) when it does not.
  absl::StatusOr<bool> PublishRows(const pqxx::result& rows, const std::string& epoch);
  pg::Pool& pg_;
  redis::Pool& redis_;
  RelayOptions options_;
  std::string select_sql_;
  std::string stamp_sql_;
  std::string republish_sql_;
  std::string epoch_;           // token last seen in Redis
  bool epoch_synced_ = false;   // epoch_ is current: batches may publish
  // The loop does not trim before this (5 minutes after a republish of rows
  // or a new epoch: consumer groups recreate themselves at 0 first).
  absl::Time trim_not_before_ = absl::InfinitePast();
  std::unique_ptr<Metrics> metrics_;
  std::thread thread_;
  absl::Notification stop_;
};

}  // namespace crm::outbox
