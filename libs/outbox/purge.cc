#include "libs/outbox/purge.h"

#include "libs/observability/log.h"
#include "libs/outbox/writer.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace crm::outbox {

KeyPurger::KeyPurger(pg::Pool& pg, KeyPurgeOptions options)
    : pg_(pg),
      options_(std::move(options)),
      query_(WriterQueries::ForSchema(options_.schema).purge_idempotency_keys) {
  if (options_.metrics != nullptr) {
    purged_ = &prometheus::BuildCounter()
                   .Name("crm_idempotency_keys_purged_total")
                   .Help("Expired idempotency keys deleted by the purge")
                   .Register(*options_.metrics)
                   .Add({{"schema", options_.schema}});
  }
}

KeyPurger::~KeyPurger() { Stop(); }

absl::StatusOr<int64_t> KeyPurger::PurgeOnce() {
  const int64_t ttl_seconds = absl::ToInt64Seconds(IdempotencyKeyTtl());
  int64_t total = 0;
  for (int i = 0; i < options_.max_batches && !stop_.HasBeenNotified(); ++i) {
    int64_t n = 0;
    absl::Status s = pg_.WithTx([&](pqxx::work& tx) {
      tx.exec("SELECT set_config('app.maintenance', 'on', true)");
      n = static_cast<int64_t>(
          pg_.Exec(tx, query_, ttl_seconds, options_.batch_size).affected_rows());
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    total += n;
    if (purged_ != nullptr) purged_->Increment(static_cast<double>(n));
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
  } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
}

}  // namespace crm::outbox
