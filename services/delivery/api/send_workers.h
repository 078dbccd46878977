#pragma once
// The engine's senders: one thread reads the Redis queue into a bounded
// in-process queue, `senders` threads run the dispatcher on its entries,
// and the sweeper (once a second) resolves claims whose lease ended and
// queues the ledger's due rows the queue does not have (retries, entries
// lost with a sender or with Redis). Metrics: crm_delivery_attempts_total
// {channel-independent outcome state}, crm_delivery_sweeper_requeued_total.
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "libs/service/periodic.h"
#include "services/delivery/app/dispatcher.h"
#include "services/delivery/app/ports.h"
#include "services/delivery/storage/redis_queue.h"

namespace prometheus {
class Registry;
}

namespace crm::delivery::api {

struct SendWorkerOptions {
  int senders = 16;
  int batch = 32;  // rows one sender claims, reads and finishes together
  std::string consumer;                              // this process's name in the group
  absl::Duration requeue_after = absl::Seconds(30);  // a queued row not sent by then
  absl::Duration sweep_every = absl::Seconds(1);
};

class SendWorkers final {
 public:
  // `runners` (campaigns, journeys): each one's rounds run on a thread of
  // its own (every second, at once again while a round had work).
  SendWorkers(storage::RedisWorkQueue& queue, app::Ledger& ledger, app::Dispatcher& dispatcher,
              std::vector<app::Runner*> runners, prometheus::Registry& registry,
              SendWorkerOptions options);
  ~SendWorkers();
  void Start();
  // Stops reading, lets the senders finish what they hold (a claimed
  // message is finished, never dropped mid-call), then returns.
  void Stop();

 private:
  void ReadLoop();
  void SendLoop();
  absl::Duration Sweep();
  static absl::Duration RunRound(app::Runner& runner);

  storage::RedisWorkQueue& queue_;
  app::Ledger& ledger_;
  app::Dispatcher& dispatcher_;
  const std::vector<app::Runner*> runners_;
  const SendWorkerOptions options_;
  class Metrics;
  std::unique_ptr<Metrics> metrics_;
  absl::Mutex mu_;
  std::deque<app::Ledger::Due> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread reader_;
  std::vector<std::thread> senders_;
  std::unique_ptr<service::PeriodicJob> sweeper_;
  std::vector<std::unique_ptr<service::PeriodicJob>> rounds_;
};

}  // namespace crm::delivery::api
