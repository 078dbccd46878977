#include "libs/outbox/relay.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crm/events/v1/envelope.pb.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
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
                     .Add({{"producer", producer}})) {}
  prometheus::Counter& published;
  prometheus::Gauge& lag;
  prometheus::Counter& failures;
};

std::string StreamFor(const std::string& customer_id, int partitions, std::string_view prefix) {
  uint32_t h = 2166136261u;
  for (unsigned char c : customer_id) {
    h ^= c;
    h *= 16777619u;
  }
  return absl::StrCat(std::string(prefix),
                      partitions > 0 ? h % static_cast<uint32_t>(partitions) : 0);
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

}  // namespace

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
  select_sql_ = absl::StrCat(
      "SELECT id, event_id::text, tenant_id::text, coalesce(customer_id::text, ''), event_type, "
      "payload::text, (extract(epoch from occurred_at) * 1000000)::int8 FROM ",
      options_.schema, ".outbox WHERE published_at IS NULL ORDER BY id LIMIT ",
      options_.batch_size, " FOR UPDATE SKIP LOCKED");
  stamp_sql_ = absl::StrCat("UPDATE ", options_.schema,
                            ".outbox SET published_at = now() WHERE id = ANY($1::int8[])");
  if (options_.metrics) metrics_ = std::make_unique<Metrics>(*options_.metrics, options_.producer);
}

Relay::~Relay() { Stop(); }

absl::StatusOr<int> Relay::RelayOnce() {
  int published = 0;
  absl::Time oldest = absl::InfiniteFuture();
  absl::Status s = pg_.WithTx([&](pqxx::work& tx) -> absl::Status {
    published = 0;
    tx.exec("SELECT set_config('app.relay', 'on', true)");
    pqxx::result rows = tx.exec(select_sql_);
    if (rows.empty()) return absl::OkStatus();
    std::vector<std::vector<std::string>> owned;
    owned.reserve(rows.size());
    std::vector<std::string> ids;
    for (const auto& r : rows) {
      std::string customer = r[3].as<std::string>();
      int64_t micros = r[6].as<int64_t>();
      oldest = std::min(oldest, absl::FromUnixMicros(micros));
      const std::string event_id = r[1].as<std::string>();
      const std::string tenant_id = r[2].as<std::string>();
      const std::string type = r[4].as<std::string>();
      const std::string payload = r[5].as<std::string>();
      owned.push_back({"XADD",
                       StreamFor(customer.empty() ? tenant_id : customer, options_.partitions,
                                 options_.stream_prefix),
                       "*", "event_id", event_id, "tenant_id", tenant_id, "customer_id", customer,
                       "type", type, "producer", options_.producer, "occurred_at_us",
                       absl::StrCat(micros), "payload", payload, "envelope",
                       EnvelopeBytes(event_id, tenant_id, type, customer, micros,
                                     options_.producer, payload)});
      ids.push_back(r[0].as<std::string>());
    }
    std::vector<std::vector<std::string_view>> cmds;
    for (const auto& c : owned) cmds.emplace_back(c.begin(), c.end());
    CRM_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, redis_.Pipeline(cmds));
    for (const auto& rep : replies) {
      if (rep.is_error()) return absl::UnavailableError("redis refused an XADD");
    }
    tx.exec_params(stamp_sql_, absl::StrCat("{", absl::StrJoin(ids, ","), "}"));
    published = static_cast<int>(ids.size());
    return absl::OkStatus();
  });
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
  if (thread_.joinable()) thread_.join();
}

void Relay::Loop() {
  absl::Duration backoff = options_.idle_poll;
  absl::Time last_trim = absl::InfinitePast();
  for (;;) {
    if (absl::Now() - last_trim >= options_.trim_interval) {
      last_trim = absl::Now();
      auto trimmed = TrimStreams();
      if (!trimmed.ok()) {
        CRM_LOG(Warning).Field("producer", options_.producer)
            << "outbox relay: trimming streams: " << trimmed.status();
      }
    }
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
    if (stop_.WaitForNotificationWithTimeout(wait)) return;
  }
}

}  // namespace crm::outbox
