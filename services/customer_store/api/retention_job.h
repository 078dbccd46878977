#pragma once
// The behaviour retention job (app::BehaviourRetention::PurgeOnce) on a
// thread of its own: a round at start, then one every `every` (one second
// after a round that ran out of its batch budget, until the backlog is
// gone). Logs what a round did; counts it in
// crm_behaviour_events_purged_total and
// crm_behaviour_partitions_dropped_total.
#include "absl/time/time.h"
#include "libs/service/periodic.h"
#include "services/customer_store/app/behaviour_retention.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace crm::customer_store::api {

class RetentionJob final {
 public:
  RetentionJob(app::BehaviourRetention& retention, absl::Duration every,
               prometheus::Registry& metrics);
  void Start();  // no thread when `every` is zero
  void Stop() { job_.Stop(); }
  // One round (what the thread runs); returns the wait before the next.
  absl::Duration RunOnce();

 private:
  app::BehaviourRetention& retention_;
  const absl::Duration every_;
  prometheus::Counter& purged_;
  prometheus::Counter& dropped_;
  service::PeriodicJob job_;
};

}  // namespace crm::customer_store::api
