#pragma once
// The platform purge: a background loop that deletes keys older than
// IdempotencyKeyTtl() from <schema>.idempotency_keys and, when outbox_keep
// is set, outbox rows published more than outbox_keep ago (never an
// unpublished one), across tenants (app.maintenance = 'on', see
// platform_schema.h). Bounded: each round
// deletes at most max_batches batches of batch_size rows, one transaction per
// batch (short locks), and rounds are `interval` apart; a backlog larger
// than a round is worked off over the following rounds. Every replica may run
// it: concurrent purges delete disjoint or already-deleted rows.
#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/outbox/writer.h"
#include "libs/pg/pool.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace crm::outbox {

struct KeyPurgeOptions {
  std::string schema;  // the pool must have TransactionalWriter::Queries(schema)
  absl::Duration interval = absl::Minutes(10);
  int batch_size = 1000;
  int max_batches = 20;
  // Zero: the outbox is not purged. Set it longer than the relay's
  // replay_window (the rows a republish after a Redis loss reads).
  absl::Duration outbox_keep = absl::ZeroDuration();
  // crm_idempotency_keys_purged_total, crm_outbox_purged_total
  prometheus::Registry* metrics = nullptr;
};

class KeyPurger final {
 public:
  KeyPurger(pg::Pool& pg, KeyPurgeOptions options);
  ~KeyPurger();
  KeyPurger(const KeyPurger&) = delete;
  KeyPurger& operator=(const KeyPurger&) = delete;

  // One round (at most max_batches batches); returns how many keys it deleted.
  absl::StatusOr<int64_t> PurgeOnce();
  // One round over the outbox (0 when outbox_keep is zero); returns how many
  // rows it deleted.
  absl::StatusOr<int64_t> PurgeOutboxOnce();
  void Start();  // a round now, then one every interval
  void Stop();

 private:
  void Loop();
  pg::Pool& pg_;
  KeyPurgeOptions options_;
  // One round of `query` (seconds, batch size) under app.maintenance.
  absl::StatusOr<int64_t> Round(const pg::NamedQuery& query, int64_t seconds,
                                prometheus::Counter* counter);
  const pg::NamedQuery query_;         // WriterQueries of options_.schema
  const pg::NamedQuery outbox_query_;  // the same
  prometheus::Counter* purged_ = nullptr;
  prometheus::Counter* outbox_purged_ = nullptr;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace crm::outbox
