#pragma once
// A campaign (docs/delivery.md, "Campaigns"): one message to every customer
// of an audience (a live segment, a list, or one customer) over one channel,
// rendered from one template per A/B variant, with a holdout kept out for
// measuring, a start time and a throttle. Its life:
//   draft → scheduled → running → completed
//             ↕ paused ↕            cancelled from any state before completed
// Each recipient is one ledger row (domain/message.h), so a campaign's
// sends have the same exactly-once, consent, cap and retry rules as any
// message.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/delivery/domain/message.h"

namespace crm::delivery::domain {

enum class CampaignState { kDraft, kScheduled, kRunning, kPaused, kCompleted, kCancelled };
absl::string_view CampaignStateName(CampaignState s);  // "draft", ...
std::optional<CampaignState> CampaignStateFromName(absl::string_view name);

enum class CampaignAction { kSchedule, kPause, kResume, kCancel };

struct Variant {
  std::string id;  // [a-z0-9][a-z0-9_-]{0,31}
  std::string template_id;
  uint32_t weight = 1;  // 1..1000
};

struct Audience {
  std::string segment_id;                 // a live segment of segmentation, or
  std::vector<std::string> customer_ids;  // a list (1..10,000; one customer: a list of one)
};

// A triggered campaign (docs/delivery.md, "Triggered campaigns") has no
// audience: while it runs, each event of its kind adds one row for the
// event's customer, due `delay` after the event. Re-entry: once per
// customer, or at every event.
// kCartAbandoned: a cart.item_added of the customer (customer-store's
// behaviour) without an order placed within the delay: the row is due the
// delay after the last item added, and an order before that suppresses it
// (SUPPRESSION_REASON_GOAL_REACHED).
enum class TriggerKind { kNone, kSegmentEntered, kOrderPlaced, kCartAbandoned };
// "", "segment_entered", "order_placed", "cart_abandoned"
absl::string_view TriggerKindName(TriggerKind k);
std::optional<TriggerKind> TriggerKindFromName(absl::string_view name);
enum class Reentry { kOnce, kEveryTime };
struct Trigger {
  TriggerKind kind = TriggerKind::kNone;
  std::string segment_id;                       // kSegmentEntered: the segment entered
  absl::Duration delay = absl::ZeroDuration();  // 0..30 days
  Reentry reentry = Reentry::kOnce;
};
inline constexpr absl::Duration kMaxTriggerDelay = absl::Hours(24 * 30);
// A cart is abandoned after at least this long without an order.
inline constexpr absl::Duration kMinCartAbandonedDelay = absl::Minutes(5);

// A recurring campaign (docs/delivery.md, "Recurring campaigns"): each
// occurrence expands the audience again (a segment's members at that time)
// and sends once to each; the next starts `interval` after the last one's
// start, once every row of it is final.
struct Recurrence {
  absl::Duration interval = absl::ZeroDuration();  // 0: once; else 1 hour .. 90 days
  std::optional<absl::Time> end_time;              // no occurrence starts after it
};
inline constexpr absl::Duration kMinRecurrence = absl::Hours(1);
inline constexpr absl::Duration kMaxRecurrence = absl::Hours(24 * 90);

struct Campaign {
  std::string id;
  std::string name;
  Channel channel = Channel::kEmail;
  Purpose purpose = Purpose::kMarketing;
  std::string endpoint_id;  // webhook
  Audience audience;        // empty for a triggered campaign
  Trigger trigger;
  Recurrence recurrence;
  std::vector<Variant> variants;  // 1..5
  uint32_t holdout_bp = 0;        // 0..5000 basis points of the audience kept out
  int throttle_per_second = 0;    // 0: as fast as the senders go; else 1..10000
  int offer_count = 0;            // 0..10
  // What one sent message costs (the ROI of the results): minor units of
  // an ISO 4217 currency; 0: not known.
  int64_t cost_per_message_minor = 0;
  std::string cost_currency_code;
  CampaignState state = CampaignState::kDraft;
  int64_t version = 0;
  std::optional<absl::Time> start_time;      // scheduled: when it starts
  std::optional<absl::Time> started_time;    // when it went running
  std::optional<absl::Time> completed_time;  // completed or cancelled
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  // Expansion: the audience's cursor ("" at the start), whether every
  // member has its ledger row, and how many rows it has (holdout included).
  std::string cursor;
  bool expanded = false;
  int64_t targeted = 0;
  // The throttle's pace: the next row after `paced` rows scheduled from
  // `pace_start` is due at SendTimeOf(pace_start, paced, throttle).
  std::optional<absl::Time> pace_start;
  int64_t paced = 0;
  int occurrence = 0;  // a recurring campaign's current (or next) occurrence, from 0
};

inline constexpr size_t kMaxVariants = 5;
inline constexpr size_t kMaxListSize = 10000;

// INVALID_ARGUMENT naming the field: name 1..200 characters, 1..5 variants
// with distinct ids and templates, weights 1..1000, a segment or a list
// (not both, not neither; list entries UUIDs, no repeats), holdout
// 0..5000, throttle 0..10000, offer_count 0..10, an endpoint for webhooks
// only.
absl::Status ValidateCampaign(const Campaign& c);

// Whether the campaign's queued rows may be claimed: running, and also
// scheduled (a recurring campaign between occurrences) and completed, whose
// only queued rows are replayed ones (ReplayMessage); not while it is
// draft, paused or cancelled. The ledger's claim applies the same rule.
bool CampaignSends(CampaignState s);

// The state an action leads to, or FAILED_PRECONDITION (CAMPAIGN_STATE_INVALID)
// naming the campaign's state and the states the action needs.
absl::StatusOr<CampaignState> NextState(const Campaign& c, CampaignAction a);

// When the recipient at `index` (0-based, in expansion order) is due: at
// `start`, spaced 1/throttle seconds apart (no spacing when throttle is 0).
absl::Time SendTimeOf(absl::Time start, int64_t index, int throttle_per_second);

// The campaign's ledger key of a recipient (its idempotency: one row per
// campaign and customer, however often expansion runs).
std::string CampaignMessageKey(const std::string& campaign_id, const std::string& customer_id);
// The same for the campaign's current occurrence (the first's is the key
// above; later ones add ":<occurrence>").
std::string OccurrenceMessageKey(const Campaign& c, const std::string& customer_id);
// After an occurrence is done at `now`: the next one's start (the last
// start plus whole intervals, the first after `now`: missed ones are
// skipped), or nullopt when the campaign does not recur or the next start
// is past its end.
std::optional<absl::Time> NextOccurrence(const Campaign& c, absl::Time now);
// A triggered campaign's row for one event: the customer's key (once), or
// the key and the event (every time).
std::string TriggeredMessageKey(const Campaign& c, const std::string& customer_id,
                                const std::string& event_id);

}  // namespace crm::delivery::domain
