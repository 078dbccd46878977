#include "services/delivery/api/send_workers.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <utility>

#include "libs/observability/log.h"

namespace crm::delivery::api {

class SendWorkers::Metrics final {
 public:
  explicit Metrics(prometheus::Registry& r)
      : attempts_(prometheus::BuildCounter()
                      .Name("crm_delivery_attempts_total")
                      .Help("Send attempts by the state they left the message in "
                            "(sent, retrying, suppressed, failed; skipped: not this "
                            "sender's, error: the ledger did not answer)")
                      .Register(r)),
        requeued_(prometheus::BuildCounter()
                      .Name("crm_delivery_sweeper_requeued_total")
                      .Help("Due ledger rows the sweeper put on the queue")
                      .Register(r)
                      .Add({})),
        lost_(prometheus::BuildCounter()
                  .Name("crm_delivery_lost_claims_total")
                  .Help("Claims whose sender stopped before finishing them")
                  .Register(r)
                  .Add({})) {}
  void Attempt(const std::string& state) { attempts_.Add({{"state", state}}).Increment(); }
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Counter& requeued_;
  prometheus::Counter& lost_;
};

SendWorkers::SendWorkers(storage::RedisWorkQueue& queue, app::Ledger& ledger,
                         app::Dispatcher& dispatcher, std::vector<app::Runner*> runners,
                         prometheus::Registry& registry, SendWorkerOptions options)
    : queue_(queue),
      ledger_(ledger),
      dispatcher_(dispatcher),
      runners_(std::move(runners)),
      options_(std::move(options)),
      metrics_(std::make_unique<Metrics>(registry)) {}

SendWorkers::~SendWorkers() { Stop(); }

void SendWorkers::Start() {
  reader_ = std::thread([this] { ReadLoop(); });
  for (int i = 0; i < options_.senders; ++i) senders_.emplace_back([this] { SendLoop(); });
  sweeper_ = std::make_unique<service::PeriodicJob>([this] { return Sweep(); });
  sweeper_->Start();
  for (app::Runner* runner : runners_) {
    rounds_.push_back(
        std::make_unique<service::PeriodicJob>([runner] { return RunRound(*runner); }));
    rounds_.back()->Start();
  }
}

void SendWorkers::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !reader_.joinable()) return;
    stopping_ = true;
  }
  for (auto& round : rounds_) round->Stop();
  if (sweeper_) sweeper_->Stop();
  if (reader_.joinable()) reader_.join();
  for (std::thread& t : senders_) {
    if (t.joinable()) t.join();
  }
  senders_.clear();
}

void SendWorkers::ReadLoop() {
  const size_t capacity = static_cast<size_t>(options_.senders) * options_.batch * 2;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto room = [this, capacity]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || pending_.size() < capacity;
      };
      mu_.Await(absl::Condition(&room));
      if (stopping_) return;
    }
    absl::StatusOr<std::vector<app::Ledger::Due>> read =
        queue_.Read(options_.consumer, options_.senders * options_.batch, absl::Milliseconds(500));
    if (!read.ok()) {
      observability::LogLine(observability::Severity::kWarning)
              .Field("error", read.status().ToString())
          << "delivery queue read failed; the sweeper keeps the ledger moving";
      absl::SleepFor(absl::Milliseconds(500));
      continue;
    }
    absl::MutexLock lock(&mu_);
    for (app::Ledger::Due& d : *read) pending_.push_back(std::move(d));
  }
}

void SendWorkers::SendLoop() {
  while (true) {
    // A batch: up to `batch` entries of the first entry's tenant, in order.
    std::string tenant;
    std::vector<std::string> ids;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !pending_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      // On stop the held entries are left: their rows stay queued and the
      // next process's sweeper queues them again.
      if (stopping_) return;
      tenant = pending_.front().tenant;
      for (auto it = pending_.begin();
           it != pending_.end() && static_cast<int>(ids.size()) < options_.batch;) {
        if (it->tenant != tenant) {
          ++it;
          continue;
        }
        ids.push_back(std::move(it->id));
        it = pending_.erase(it);
      }
    }
    absl::StatusOr<std::vector<std::optional<domain::State>>> done =
        dispatcher_.ProcessBatch(tenant, ids);
    if (!done.ok()) {
      for (size_t i = 0; i < ids.size(); ++i) metrics_->Attempt("error");
      observability::LogLine(observability::Severity::kWarning)
              .Field("tenant", tenant)
              .Field("messages", static_cast<int64_t>(ids.size()))
              .Field("error", done.status().ToString())
          << "send batch not recorded; the sweeper resolves its messages";
      continue;
    }
    for (const std::optional<domain::State>& s : *done) {
      metrics_->Attempt(s ? std::string(domain::StateName(*s)) : "skipped");
    }
  }
}

absl::Duration SendWorkers::RunRound(app::Runner& runner) {
  absl::StatusOr<int> busy = runner.Tick();
  if (!busy.ok()) {
    observability::LogLine(observability::Severity::kWarning)
            .Field("runner", runner.Name())
            .Field("error", busy.status().ToString())
        << "runner round failed";
    return absl::Seconds(1);
  }
  // A round with work: the next one soon (a large audience expands a page
  // per campaign per round; a journey round takes a batch of enrolments).
  return *busy > 0 ? absl::Milliseconds(20) : absl::Seconds(1);
}

absl::Duration SendWorkers::Sweep() {
  absl::StatusOr<int> lost = ledger_.ResolveLostClaims(1000);
  if (lost.ok() && *lost > 0) {
    metrics_->lost_.Increment(*lost);
    observability::LogLine(observability::Severity::kWarning).Field("messages", int64_t{*lost})
        << "claims of stopped senders resolved (webhooks retried, emails unknown)";
  }
  absl::StatusOr<std::vector<app::Ledger::Due>> due = ledger_.TakeDue(options_.requeue_after, 5000);
  if (!due.ok() || !lost.ok()) {
    observability::LogLine(observability::Severity::kWarning)
            .Field("error", (!due.ok() ? due.status() : lost.status()).ToString())
        << "delivery sweep failed";
    return options_.sweep_every;
  }
  if (!due->empty()) {
    absl::Status s = queue_.Enqueue(*due);
    if (s.ok()) {
      metrics_->requeued_.Increment(static_cast<double>(due->size()));
    } else {
      observability::LogLine(observability::Severity::kWarning).Field("error", s.ToString())
          << "delivery queue unavailable; due messages wait for the next sweep";
    }
  }
  // A full batch: more are due, sweep again at once.
  return due->size() >= 5000 ? absl::ZeroDuration() : options_.sweep_every;
}

}  // namespace crm::delivery::api
