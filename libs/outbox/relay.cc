#include "libs/outbox/relay.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/common/env.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "libs/outbox/wakeup.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace crm::outbox {

class Relay::Metrics {
 public:
  explicit Metrics(prometheus::Registry& r, const std::string& producer)
      : published(prometheus::BuildCounter()
                      .Name("crm_outbox_published_total")
                      .Help("Outbox events published to Redis Streams")
                      .Register(r)
                      .Add({{"producer", producer}})),
        lag(prometheus::BuildGauge()
                .Name("crm_outbox_relay_lag_seconds")
                .Help("Age of the oldest event of the last batch when it was published")
                .Register(r)
                .Add({{"producer", producer}})),
        failures(prometheus::BuildCounter()
                     .Name("crm_outbox_relay_failures_total")
                     .Help("Relay batches that failed and will be retried")
                     .Register(r)
                     .Add({{"producer", producer}})),
        republished(prometheus::BuildCounter()
                        .Name("crm_outbox_republished_total")
                        .Help("Outbox events published again after Redis lost its data")
                        .Register(r)
                        .Add({{"producer", producer}})),
        epoch_resets(prometheus::BuildCounter()
                         .Name("crm_outbox_epoch_resets_total")
                         .Help("Republishes run by this relay because Redis had no (finished) "
                               "epoch key: data loss or first start")
                         .Register(r)
                         .Add({{"producer", producer}})) {}
  prometheus::Counter& published;
  prometheus::Gauge& lag;
  prometheus::Counter& failures;
  prometheus::Counter& republished;
  prometheus::Counter& epoch_resets;
};

std::string StreamFor(const std::string& customer_id, int partitions, std::string_view prefix) {
  return absl::StrCat(std::string(prefix), common::PartitionOf(customer_id, partitions));
}

// ------------------------------------------------------------ trim threshold

namespace {

std::optional<uint64_t> ParseU64(std::string_view t) {
  uint64_t v = 0;
  if (t.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
  return v;
}

// Binary EventEnvelope of one outbox row (schema_version 1).
std::string EnvelopeBytes(const std::string& event_id, const std::string& tenant_id,
                          const std::string& type, const std::string& customer_id,
                          int64_t occurred_us, const std::string& producer,
                          const std::string& payload_json) {
  crm::events::v1::EventEnvelope env;
  env.set_event_id(event_id);
  env.set_tenant_id(tenant_id);
  env.set_type(type);
  env.set_customer_id(customer_id);
  int64_t seconds = occurred_us / 1000000;
  int64_t micros = occurred_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    seconds -= 1;
  }
  env.mutable_occurred_at()->set_seconds(seconds);
  env.mutable_occurred_at()->set_nanos(static_cast<int32_t>(micros * 1000));
  env.set_producer(producer);
  env.set_schema_version(1);
  env.set_payload_json(payload_json);
  return env.SerializeAsString();
}

constexpr const char kInProgress[] = "republishing:";
// After a loss the loop does not trim for a while: a consumer group that has
// not been recreated yet would not protect its entries (TrimThreshold only
// sees existing groups).
constexpr absl::Duration kTrimGraceAfterLoss = absl::Minutes(5);
constexpr size_t kInProgressLen = sizeof(kInProgress) - 1;

bool InProgress(const std::string& epoch) {
  return epoch.compare(0, kInProgressLen, kInProgress) == 0;
}

// Sets KEYS[1] to ARGV[2] only while it still holds ARGV[1].
constexpr const char* kCompareAndSet =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) "
    "return 1 end return 0";

// Columns every publishing query selects, in this order.
constexpr const char* kColumns =
    "SELECT id, event_id::text, tenant_id::text, coalesce(customer_id::text, ''), event_type, "
    "payload::text, (extract(epoch from occurred_at) * 1000000)::int8 FROM ";

// Fields of the XADD of one outbox row (columns of kColumns), in this order.
constexpr int kFieldArgs = 16;
void AppendFields(const pqxx::row& r, const RelayOptions& o, std::vector<std::string>& keys,
                  std::vector<std::string>& args) {
  const std::string customer = r[3].as<std::string>();
  const int64_t micros = r[6].as<int64_t>();
  const std::string event_id = r[1].as<std::string>();
  const std::string tenant_id = r[2].as<std::string>();
  const std::string type = r[4].as<std::string>();
  const std::string payload = r[5].as<std::string>();
  keys.push_back(
      StreamFor(customer.empty() ? tenant_id : customer, o.partitions, o.stream_prefix));
  for (std::string v : {std::string("event_id"), event_id, std::string("tenant_id"), tenant_id,
                        std::string("customer_id"), customer, std::string("type"), type,
                        std::string("producer"), o.producer, std::string("occurred_at_us"),
                        absl::StrCat(micros), std::string("payload"), payload,
                        std::string("envelope"),
                        EnvelopeBytes(event_id, tenant_id, type, customer, micros, o.producer,
                                      payload)}) {
    args.push_back(std::move(v));
  }
}

// KEYS = [epoch key, stream of entry 1, ...], ARGV = [expected epoch, then
// kFieldArgs field/value arguments per entry]. Atomic: the entries are added
// only while the epoch key holds the expected value (-1 otherwise), so no
// entry of a batch can land in a dataset the relay does not know.
constexpr const char* kPublishScript =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end "
    "local per = 16 "
    "for i = 2, #KEYS do "
    "  local base = 1 + (i - 2) * per "
    "  redis.call('XADD', KEYS[i], '*', unpack(ARGV, base + 1, base + per)) "
    "end "
    "return #KEYS - 1";

// The epoch value of a GET: "" when the key is missing.
absl::StatusOr<std::string> EpochOf(const redis::Reply& r) {
  if (r.is_nil()) return std::string();
  return r.String();
}

}  // namespace

absl::Status ApplyRelayEnvironment(RelayOptions& options) {
  CRM_ASSIGN_OR_RETURN(options.replay_window,
                       common::EnvDuration("CRM_OUTBOX_REPLAY_WINDOW", options.replay_window));
  CRM_ASSIGN_OR_RETURN(options.min_pass_interval,
                       common::EnvDuration("CRM_OUTBOX_RELAY_MIN_INTERVAL",
                                           options.min_pass_interval));
  if (options.min_pass_interval < absl::ZeroDuration() ||
      options.min_pass_interval > absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "CRM_OUTBOX_RELAY_MIN_INTERVAL must be between 0 and 1s (e.g. 10ms)");
  }
  return absl::OkStatus();
}

std::optional<StreamId> ParseStreamId(std::string_view text) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = ParseU64(text.substr(0, dash));
  auto seq = ParseU64(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return StreamId{*ms, *seq};
}

std::string FormatStreamId(StreamId id) { return absl::StrCat(id.ms, "-", id.seq); }

bool operator<(const StreamId& a, const StreamId& b) {
  return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq);
}

StreamId NextStreamId(StreamId id) {
  if (id.seq == std::numeric_limits<uint64_t>::max()) return StreamId{id.ms + 1, 0};
  return StreamId{id.ms, id.seq + 1};
}

std::optional<std::string> TrimThreshold(const std::vector<GroupPosition>& groups) {
  if (groups.empty()) return std::nullopt;
  std::optional<StreamId> lowest;
  for (const GroupPosition& g : groups) {
    auto delivered = ParseStreamId(g.last_delivered_id);
    if (!delivered) return std::nullopt;
    StreamId need = NextStreamId(*delivered);
    if (g.oldest_pending) {
      auto pending = ParseStreamId(*g.oldest_pending);
      if (!pending) return std::nullopt;
      if (*pending < need) need = *pending;
    }
    if (!lowest || need < *lowest) lowest = need;
  }
  return FormatStreamId(*lowest);
}

Relay::Relay(pg::Pool& pg, redis::Pool& redis, RelayOptions options)
    : pg_(pg), redis_(redis), options_(std::move(options)) {
  if (options_.epoch_key.empty()) options_.epoch_key = "crm:events:epoch:" + options_.schema;
  select_sql_ = absl::StrCat(kColumns, options_.schema,
                             ".outbox WHERE published_at IS NULL ORDER BY id LIMIT ",
                             options_.batch_size, " FOR UPDATE SKIP LOCKED");
  republish_sql_ = absl::StrCat(
      kColumns, options_.schema,
      ".outbox WHERE published_at IS NOT NULL AND published_at >= now() - $2::int8 * interval "
      "'1 microsecond' AND id > $1::int8 ORDER BY id LIMIT ",
      options_.batch_size);
  stamp_sql_ = absl::StrCat("UPDATE ", options_.schema,
                            ".outbox SET published_at = now() WHERE id = ANY($1::int8[])");
  if (options_.metrics) metrics_ = std::make_unique<Metrics>(*options_.metrics, options_.producer);
}

Relay::~Relay() { Stop(); }

namespace {
// One advisory lock per outbox schema: publishing batches hold it shared, a
// republish exclusively (transaction-scoped, never waited for). The same
// statement turns on the relay's row-level-security bypass for the
// transaction (app.relay), so a pass costs one round trip less.
constexpr const char* kLockShared =
    "SELECT pg_try_advisory_xact_lock_shared(hashtext('crm.outbox.relay'), hashtext($1)), "
    "set_config('app.relay', 'on', true)";
constexpr const char* kLockExclusive =
    "SELECT pg_try_advisory_xact_lock(hashtext('crm.outbox.relay'), hashtext($1)), "
    "set_config('app.relay', 'on', true)";
}  // namespace

absl::StatusOr<int> Relay::RelayOnce() {
  if (!epoch_synced_) {
    CRM_RETURN_IF_ERROR(CheckEpoch().status());
    if (!epoch_synced_) return 0;  // another replica is republishing
  }
  int published = 0;
  bool epoch_changed = false;
  bool republish_running = false;
  absl::Time oldest = absl::InfiniteFuture();
  absl::Status s = pg_.WithTx([&](pqxx::work& tx) -> absl::Status {
    published = 0;
    epoch_changed = false;
    republish_running = false;
    if (!tx.exec_params(kLockShared, options_.schema)[0][0].as<bool>()) {
      republish_running = true;  // another replica republishes: check the epoch after it
      return absl::OkStatus();
    }
    pqxx::result rows = tx.exec(select_sql_);
    if (rows.empty()) return absl::OkStatus();
    std::vector<std::string> ids;
    for (const auto& r : rows) {
      oldest = std::min(oldest, absl::FromUnixMicros(r[6].as<int64_t>()));
      ids.push_back(r[0].as<std::string>());
    }
    CRM_ASSIGN_OR_RETURN(bool added, PublishRows(rows, epoch_));
    if (!added) {
      // Redis lost its data (or another replica republished) since the last
      // check: nothing was added; roll back and check the epoch first.
      epoch_changed = true;
      return absl::AbortedError("redis epoch changed before a publish batch");
    }
    tx.exec_params(stamp_sql_, absl::StrCat("{", absl::StrJoin(ids, ","), "}"));
    published = static_cast<int>(ids.size());
    return absl::OkStatus();
  });
  if (republish_running) {
    epoch_synced_ = false;
    return 0;
  }
  if (epoch_changed) {
    epoch_synced_ = false;
    CRM_LOG(Warning).Field("producer", options_.producer)
        << "outbox relay: the redis epoch changed before a batch (redis lost its data?); "
           "batch rolled back, checking the epoch";
    return 0;
  }
  if (!s.ok()) {
    if (metrics_) metrics_->failures.Increment();
    return s;
  }
  if (metrics_ && published > 0) {
    metrics_->published.Increment(published);
    metrics_->lag.Set(absl::ToDoubleSeconds(absl::Now() - oldest));
  } else if (metrics_) {
    metrics_->lag.Set(0);
  }
  return published;
}

absl::StatusOr<bool> Relay::PublishRows(const pqxx::result& rows, const std::string& epoch) {
  std::vector<std::string> keys = {options_.epoch_key};
  std::vector<std::string> args = {epoch};
  keys.reserve(rows.size() + 1);
  args.reserve(rows.size() * kFieldArgs + 1);
  for (const auto& r : rows) AppendFields(r, options_, keys, args);
  const std::string n_keys = absl::StrCat(keys.size());
  std::vector<std::string_view> argv = {"EVAL", kPublishScript, n_keys};
  argv.reserve(3 + keys.size() + args.size());
  for (const std::string& k : keys) argv.push_back(k);
  for (const std::string& a : args) argv.push_back(a);
  CRM_ASSIGN_OR_RETURN(redis::Reply reply, redis_.Command(argv));
  CRM_ASSIGN_OR_RETURN(int64_t added, reply.Integer());
  if (added < 0) return false;
  if (added != static_cast<int64_t>(rows.size())) {
    return absl::InternalError("redis: the publish script added a different number of entries");
  }
  return true;
}

absl::StatusOr<int64_t> Relay::CheckEpoch() {
  CRM_ASSIGN_OR_RETURN(redis::Reply reply, redis_.Command({"GET", options_.epoch_key}));
  CRM_ASSIGN_OR_RETURN(std::string current, EpochOf(reply));
  if (!current.empty() && !InProgress(current)) {
    if (epoch_synced_ && current == epoch_) return 0;
    if (!epoch_.empty() && current != epoch_) {
      CRM_LOG(Info).Field("producer", options_.producer)
          << "outbox relay: adopting the redis epoch another relay set after republishing";
      trim_not_before_ = absl::Now() + kTrimGraceAfterLoss;
    }
    epoch_ = std::move(current);
    epoch_synced_ = true;
    return 0;
  }
  epoch_synced_ = false;
  return Republish();
}

absl::StatusOr<int64_t> Relay::Republish() {
  int64_t republished = 0;
  bool busy = false;
  bool adopted = false;
  std::string token;
  const int64_t window_us = std::max<int64_t>(absl::ToInt64Microseconds(options_.replay_window), 0);
  absl::Status s = pg_.WithTx([&](pqxx::work& tx) -> absl::Status {
    republished = 0;
    busy = false;
    adopted = false;
    // Exclusive: no publishing batch of this schema is in flight (they hold
    // the lock shared), so every stamped row is visible to the SELECT below.
    if (!tx.exec_params(kLockExclusive, options_.schema)[0][0].as<bool>()) {
      busy = true;
      return absl::OkStatus();
    }
    CRM_ASSIGN_OR_RETURN(redis::Reply again, redis_.Command({"GET", options_.epoch_key}));
    CRM_ASSIGN_OR_RETURN(std::string current, EpochOf(again));
    if (!current.empty() && !InProgress(current)) {  // another replica finished meanwhile
      token = std::move(current);
      adopted = true;
      return absl::OkStatus();
    }
    const std::string fresh = common::NewUuid();
    const std::string marker = absl::StrCat(kInProgress, fresh);
    CRM_ASSIGN_OR_RETURN(redis::Reply set, redis_.Command({"SET", options_.epoch_key, marker}));
    CRM_RETURN_IF_ERROR(set.String().status());
    CRM_LOG(Warning).Field("producer", options_.producer).Field("epoch_key", options_.epoch_key)
        << "outbox relay: redis has no epoch (data loss or first start): republishing the "
           "outbox rows published within the replay window";
    int64_t cursor = 0;
    for (;;) {
      pqxx::result rows = tx.exec_params(republish_sql_, cursor, window_us);
      if (rows.empty()) break;
      CRM_ASSIGN_OR_RETURN(bool added, PublishRows(rows, marker));
      if (!added) return absl::AbortedError("redis lost its data again during a republish");
      cursor = rows[rows.size() - 1][0].as<int64_t>();
      republished += static_cast<int64_t>(rows.size());
    }
    CRM_ASSIGN_OR_RETURN(redis::Reply cas, redis_.Command({"EVAL", kCompareAndSet, "1",
                                                           options_.epoch_key, marker, fresh}));
    CRM_ASSIGN_OR_RETURN(int64_t swapped, cas.Integer());
    if (swapped != 1) return absl::AbortedError("redis lost its data again during a republish");
    token = fresh;
    return absl::OkStatus();
  });
  if (!s.ok()) {
    if (metrics_) metrics_->failures.Increment();
    return s;
  }
  if (busy) return 0;  // epoch_synced_ stays false: RelayOnce publishes nothing yet
  epoch_ = token;
  epoch_synced_ = true;
  if (republished > 0) trim_not_before_ = absl::Now() + kTrimGraceAfterLoss;
  if (adopted) return 0;
  CRM_LOG(Warning).Field("producer", options_.producer).Field("republished", republished)
      << "outbox relay: republish finished, new redis epoch set";
  if (metrics_) {
    metrics_->epoch_resets.Increment();
    metrics_->republished.Increment(static_cast<double>(republished));
  }
  return republished;
}

absl::StatusOr<int64_t> Relay::TrimStreams() {
  int64_t removed = 0;
  for (int p = 0; p < std::max(options_.partitions, 1); ++p) {
    const std::string stream = absl::StrCat(options_.stream_prefix, p);
    CRM_ASSIGN_OR_RETURN(redis::Reply exists, redis_.Command({"EXISTS", stream}));
    CRM_ASSIGN_OR_RETURN(int64_t n_exists, exists.Integer());
    if (n_exists == 0) continue;
    CRM_ASSIGN_OR_RETURN(redis::Reply info, redis_.Command({"XINFO", "GROUPS", stream}));
    CRM_ASSIGN_OR_RETURN(size_t n_groups, info.ArraySize());
    if (n_groups == 0) continue;  // nobody consumes it yet: keep everything
    std::vector<GroupPosition> groups;
    for (size_t i = 0; i < n_groups; ++i) {
      CRM_ASSIGN_OR_RETURN(redis::Reply g, info.Element(i));
      CRM_ASSIGN_OR_RETURN(size_t n_fields, g.ArraySize());
      GroupPosition pos;
      int64_t pending = 0;
      for (size_t f = 0; f + 1 < n_fields; f += 2) {
        CRM_ASSIGN_OR_RETURN(redis::Reply key_reply, g.Element(f));
        CRM_ASSIGN_OR_RETURN(std::string key, key_reply.String());
        CRM_ASSIGN_OR_RETURN(redis::Reply value, g.Element(f + 1));
        if (key == "name") {
          CRM_ASSIGN_OR_RETURN(pos.name, value.String());
        } else if (key == "last-delivered-id") {
          CRM_ASSIGN_OR_RETURN(pos.last_delivered_id, value.String());
        } else if (key == "pending") {
          CRM_ASSIGN_OR_RETURN(pending, value.Integer());
        }
      }
      if (pos.name.empty() || pos.last_delivered_id.empty()) {
        return absl::InternalError("redis: XINFO GROUPS reply without name or last-delivered-id");
      }
      if (pending > 0) {
        CRM_ASSIGN_OR_RETURN(redis::Reply summary, redis_.Command({"XPENDING", stream, pos.name}));
        CRM_ASSIGN_OR_RETURN(redis::Reply min_id, summary.Element(1));
        // Acknowledged in the meantime: nil; last-delivered-id alone then bounds it.
        if (!min_id.is_nil()) {
          CRM_ASSIGN_OR_RETURN(std::string oldest, min_id.String());
          pos.oldest_pending = std::move(oldest);
        }
      }
      groups.push_back(std::move(pos));
    }
    std::optional<std::string> threshold = TrimThreshold(groups);
    if (!threshold) {
      CRM_LOG(Warning).Field("stream", stream) << "outbox relay: unparsable group ids, not trimmed";
      continue;
    }
    CRM_ASSIGN_OR_RETURN(redis::Reply trimmed,
                         redis_.Command({"XTRIM", stream, "MINID", *threshold}));
    CRM_ASSIGN_OR_RETURN(int64_t n, trimmed.Integer());
    removed += n;
  }
  return removed;
}

void Relay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Relay::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  WakeupFor(options_.schema).Notify();
  if (thread_.joinable()) thread_.join();
}

void Relay::Loop() {
  Wakeup& wakeup = WakeupFor(options_.schema);
  absl::Duration backoff = options_.idle_poll;
  absl::Time last_trim = absl::InfinitePast();
  absl::Time last_epoch_check = absl::InfinitePast();
  for (;;) {
    if (absl::Now() - last_epoch_check >= options_.epoch_check_interval) {
      last_epoch_check = absl::Now();
      auto republished = CheckEpoch();
      if (!republished.ok()) {
        CRM_LOG(Warning).Field("producer", options_.producer)
            << "outbox relay: checking the redis epoch: " << republished.status();
      }
    }
    if (absl::Now() - last_trim >= options_.trim_interval && absl::Now() >= trim_not_before_) {
      last_trim = absl::Now();
      auto trimmed = TrimStreams();
      if (!trimmed.ok()) {
        CRM_LOG(Warning).Field("producer", options_.producer)
            << "outbox relay: trimming streams: " << trimmed.status();
      }
    }
    // Read before the batch: a commit while it runs wakes the wait below.
    const uint64_t seen = wakeup.generation();
    const absl::Time pass_start = absl::Now();
    auto n = RelayOnce();
    absl::Duration wait = options_.idle_poll;
    if (!n.ok()) {
      CRM_LOG(Warning).Field("producer", options_.producer) << "outbox relay: " << n.status();
      backoff = std::min(backoff * 2, absl::Seconds(5));
      wait = backoff;
    } else {
      backoff = options_.idle_poll;
      if (*n == options_.batch_size) wait = absl::ZeroDuration();
    }
    if (stop_.HasBeenNotified()) return;
    if (wait > absl::ZeroDuration()) {
      // Woken by a commit of this process's writers (n.ok() only: after a
      // failure the backoff is waited out in full).
      if (n.ok()) {
        wakeup.Wait(seen, wait);
        // Woken early by a commit: let the commits of the rest of the
        // interval join this pass (stop still ends the wait at once).
        const absl::Duration early = pass_start + options_.min_pass_interval - absl::Now();
        if (early > absl::ZeroDuration() && stop_.WaitForNotificationWithTimeout(early)) return;
      } else if (stop_.WaitForNotificationWithTimeout(wait)) {
        return;
      }
    }
    if (stop_.HasBeenNotified()) return;
  }
}

}  // namespace crm::outbox
