#include "libs/outbox/relay.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

std::string StreamFor(const std::string& customer_id, int partitions) {
  uint32_t h = 2166136261u;
  for (unsigned char c : customer_id) {
    h ^= c;
    h *= 16777619u;
  }
  return absl::StrCat("crm:events:p", partitions > 0 ? h % static_cast<uint32_t>(partitions) : 0);
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
    std::string maxlen = absl::StrCat(options_.stream_max_len);
    for (const auto& r : rows) {
      std::string customer = r[3].as<std::string>();
      int64_t micros = r[6].as<int64_t>();
      oldest = std::min(oldest, absl::FromUnixMicros(micros));
      owned.push_back({"XADD", StreamFor(customer.empty() ? r[2].as<std::string>() : customer,
                                         options_.partitions),
                       "MAXLEN", "~", maxlen, "*", "event_id", r[1].as<std::string>(),
                       "tenant_id", r[2].as<std::string>(), "customer_id", customer, "type",
                       r[4].as<std::string>(), "producer", options_.producer, "occurred_at_us",
                       absl::StrCat(micros), "payload", r[5].as<std::string>()});
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

void Relay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Relay::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void Relay::Loop() {
  absl::Duration backoff = options_.idle_poll;
  for (;;) {
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
