#include "libs/outbox/purge.h"

#include "libs/observability/log.h"
#include "libs/outbox/writer.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace crm::outbox {

KeyPurger::KeyPurger(pg::Pool& pg, KeyPurgeOptions options)
    : pg_(pg),
      options_(std::move(options)),
      query_(WriterQueries::ForSchema(options_.schema).purge_idempotency_keys),
      outbox_query_(WriterQueries::ForSchema(options_.schema).purge_outbox) {
  if (options_.metrics != nullptr) {
    purged_ = &prometheus::BuildCounter()
                   .Name("crm_idempotency_keys_purged_total")
                   .Help("Expired idempotency keys deleted by the purge")
                   .Register(*options_.metrics)
                   .Add({{"schema", options_.schema}});
    outbox_purged_ = &prometheus::BuildCounter()
                          .Name("crm_outbox_purged_total")
                          .Help("Outbox rows published longer ago than the replay window, deleted")
                          .Register(*options_.metrics)
                          .Add({{"schema", options_.schema}});
  }
}

KeyPurger::~KeyPurger() { Stop(); }

absl::StatusOr<int64_t> KeyPurger::PurgeOnce() {
  return Round(query_, absl::ToInt64Seconds(IdempotencyKeyTtl()), purged_);
}

absl::StatusOr<int64_t> KeyPurger::PurgeOutboxOnce() {
  if (options_.outbox_keep <= absl::ZeroDuration()) return 0;
  return Round(outbox_query_, absl::ToInt64Seconds(options_.outbox_keep), outbox_purged_);
}

absl::StatusOr<int64_t> KeyPurger::Round(const pg::NamedQuery& query, int64_t seconds,
                                         prometheus::Counter* counter) {
  int64_t total = 0;
  for (int i = 0; i < options_.max_batches && !stop_.HasBeenNotified(); ++i) {
    int64_t n = 0;
    absl::Status s = pg_.WithTx([&](pqxx::work& tx) {
      tx.exec("SELECT set_config('app.maintenance', 'on', true)");
      n = static_cast<int64_t>(pg_.Exec(tx, query, seconds, options_.batch_size).affected_rows());
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    total += n;
    if (counter != nullptr) counter->Increment(static_cast<double>(n));
    if (n < options_.batch_size) break;
  }
  return total;
}

void KeyPurger::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void KeyPurger::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void KeyPurger::Loop() {
  do {
    auto n = PurgeOnce();
    if (!n.ok()) {
      CRM_LOG(Warning).Field("schema", options_.schema)
          << "idempotency key purge: " << n.status();
    } else if (*n > 0) {
      CRM_LOG(Info).Field("schema", options_.schema).Field("purged", *n)
          << "expired idempotency keys purged";
    }
    auto rows = PurgeOutboxOnce();
    if (!rows.ok()) {
      CRM_LOG(Warning).Field("schema", options_.schema) << "outbox purge: " << rows.status();
    } else if (*rows > 0) {
      CRM_LOG(Info).Field("schema", options_.schema).Field("purged", *rows)
          << "published outbox rows purged";
    }
  } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
}

}  // namespace crm::outbox
