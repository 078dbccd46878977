#pragma once
// Campaigns (domain/campaign.h): their requests, and the runner's round
// (Tick) that starts the due ones, expands each running one's audience
// into ledger rows a page at a time (A/B variants and the holdout assigned
// by a stateless hash of the customer; a throttle spacing the rows' send
// times), and completes the ones whose every row is final.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/outbox/write_meta.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::app {

struct VariantResults {
  std::string variant_id;  // "" for the holdout
  int64_t targeted = 0;
  int64_t pending = 0;  // queued, sending, retrying
  int64_t sent = 0;
  int64_t failed = 0;
  int64_t unknown = 0;
  int64_t cancelled = 0;
  std::map<std::string, int64_t> suppressed;  // reason name -> count (holdout included)
  // Sent messages opened, clicked, unsubscribed from (at least once each).
  int64_t opened = 0;
  int64_t clicked = 0;
  int64_t unsubscribed = 0;
  // Delivery receipts (SMS): sent messages reported delivered or bounced.
  int64_t delivered = 0;
  int64_t bounced = 0;
  // Conversions (docs/delivery.md, "Conversions"): messages credited with
  // an order and the orders' net value by currency; rows with an order
  // within the window after exposure, of the final rows (intention to
  // treat: sent or not, the holdout's too); the order rate's lift over the
  // holdout (variants of a campaign with one); the cost of the sent
  // messages and the return on it in the cost's currency.
  int64_t converted = 0;
  std::map<std::string, int64_t> revenue_minor;
  int64_t ordered = 0;
  int64_t exposed = 0;
  domain::Lift lift;
  int64_t cost_minor = 0;
  std::optional<double> roi;
};
// One next best offer across the campaign's variants: the sent messages
// that carried it, those credited with an order, and those orders' net
// value by currency (a message with two offers credits both).
struct OfferResults {
  std::string offer_id;
  int64_t sent = 0;
  int64_t converted = 0;
  std::map<std::string, int64_t> revenue_minor;
};
struct CampaignResults {
  domain::Campaign campaign;
  std::vector<VariantResults> variants;  // the campaign's order, then the holdout ("")
  std::vector<OfferResults> offers;      // by offer id
};

// An event that may trigger campaigns (domain::Trigger).
struct TriggerEvent {
  domain::TriggerKind kind = domain::TriggerKind::kNone;
  std::string segment_id;  // segment.entered
  std::string customer_id;
  std::string event_id;
  absl::Time time = absl::InfinitePast();  // when it happened
};

struct CampaignOptions {
  int max_attempts = 8;
  int page_size = 1000;  // audience members per expansion step
};

class Campaigns final : public Runner {
 public:
  Campaigns(DeliveryRepository& repository, WorkQueue& queue, Renderer& renderer,
            SegmentDirectory& segments, CampaignOptions options, const common::Clock& clock,
            common::IdGenerator& ids)
      : repository_(repository),
        queue_(queue),
        renderer_(renderer),
        segments_(segments),
        options_(options),
        clock_(clock),
        ids_(ids) {}

  absl::StatusOr<domain::Campaign> Create(const outbox::WriteMeta& meta, domain::Campaign draft);
  absl::StatusOr<domain::Campaign> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<domain::Campaign>> List(const std::string& tenant);
  // A draft's definition replaced by `draft` (`if_match` the version read).
  absl::StatusOr<domain::Campaign> Update(const outbox::WriteMeta& meta, const std::string& id,
                                          domain::Campaign draft, const std::string& if_match);
  // draft -> scheduled, starting at `start` (nullopt: now; not in the past).
  absl::StatusOr<domain::Campaign> Schedule(const outbox::WriteMeta& meta, const std::string& id,
                                            std::optional<absl::Time> start);
  absl::StatusOr<domain::Campaign> Pause(const outbox::WriteMeta& meta, const std::string& id);
  absl::StatusOr<domain::Campaign> Resume(const outbox::WriteMeta& meta, const std::string& id);
  absl::StatusOr<domain::Campaign> Cancel(const outbox::WriteMeta& meta, const std::string& id);
  absl::StatusOr<CampaignResults> Results(const std::string& tenant, const std::string& id);

  // One round of the runner over every tenant; how many campaigns had work
  // (the caller runs again at once while it is not 0).
  absl::StatusOr<int> Tick() override;
  std::string Name() const override { return "campaign"; }

  // The rows `e` adds to the tenant's running campaigns it triggers (one
  // per campaign, due the campaign's delay after the event; a customer
  // already entered under re-entry "once", or an event seen before, adds
  // nothing); how many were added.
  absl::StatusOr<int> Trigger(const std::string& tenant, const TriggerEvent& e);
  // The customer placed an order at `placed`: their abandoned-cart
  // reminders due by `placed` + the campaign's delay (those of carts filled
  // before the order) are suppressed (GOAL_REACHED) with their events; how
  // many.
  absl::StatusOr<int> ReachGoal(const std::string& tenant, const std::string& customer_id,
                                absl::Time placed);

 private:
  // The checks that need the peers: templates of the channel, the segment,
  // the endpoint.
  absl::Status CheckReferences(const std::string& tenant, const domain::Campaign& c);
  absl::StatusOr<domain::Campaign> Act(const outbox::WriteMeta& meta, const std::string& id,
                                       domain::CampaignAction action,
                                       std::optional<absl::Time> start);
  // One step of one campaign; true when it did something.
  absl::StatusOr<bool> Step(const std::string& tenant, const std::string& id);
  absl::StatusOr<bool> Expand(const std::string& tenant, const domain::Campaign& c);
  // The ledger row of `customer` in `c`: its variant or the holdout, due at `due`.
  absl::StatusOr<domain::Message> RowFor(const std::string& tenant, const domain::Campaign& c,
                                         const std::string& customer, std::string request_id,
                                         absl::Time due);
  // Queues the rows of `rows` that were inserted and are due now.
  void QueueDue(const std::string& tenant, const std::vector<domain::Message>& rows,
                const std::vector<std::string>& inserted);

  DeliveryRepository& repository_;
  WorkQueue& queue_;
  Renderer& renderer_;
  SegmentDirectory& segments_;
  const CampaignOptions options_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::delivery::app
