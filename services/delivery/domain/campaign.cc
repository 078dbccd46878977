#include "services/delivery/domain/campaign.h"

#include <array>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/currency.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"

namespace crm::delivery::domain {
namespace {

constexpr std::array<std::pair<CampaignState, absl::string_view>, 6> kStates{
    {{CampaignState::kDraft, "draft"},
     {CampaignState::kScheduled, "scheduled"},
     {CampaignState::kRunning, "running"},
     {CampaignState::kPaused, "paused"},
     {CampaignState::kCompleted, "completed"},
     {CampaignState::kCancelled, "cancelled"}}};

bool VariantIdOk(const std::string& id) {
  if (id.empty() || id.size() > 32) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

absl::Status Refuse(const Campaign& c, absl::string_view action,
                    std::initializer_list<CampaignState> allowed) {
  std::vector<std::string> names;
  for (CampaignState s : allowed) names.emplace_back(CampaignStateName(s));
  return common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                                "campaign ", c.id, " is ", CampaignStateName(c.state), "; ", action,
                                " needs a campaign that is ", absl::StrJoin(names, " or "))),
                            "CAMPAIGN_STATE_INVALID");
}

}  // namespace

absl::string_view CampaignStateName(CampaignState s) {
  for (const auto& [v, n] : kStates) {
    if (v == s) return n;
  }
  return "";
}

std::optional<CampaignState> CampaignStateFromName(absl::string_view name) {
  for (const auto& [v, n] : kStates) {
    if (n == name) return v;
  }
  return std::nullopt;
}

absl::Status ValidateCampaign(const Campaign& c) {
  if (c.name.empty() || c.name.size() > 200) {
    return common::InvalidField("name", "name is 1..200 characters");
  }
  if (c.variants.empty() || c.variants.size() > kMaxVariants) {
    return common::InvalidField("variants", "1..5 variants, each a template");
  }
  std::set<std::string> ids;
  for (const Variant& v : c.variants) {
    if (!VariantIdOk(v.id)) {
      return common::InvalidField("variants.variant_id",
                                  "variant ids are [a-z0-9][a-z0-9_-]{0,31}");
    }
    if (!ids.insert(v.id).second) {
      return common::InvalidField("variants.variant_id",
                                  absl::StrCat("variant \"", v.id, "\" is named twice"));
    }
    if (v.template_id.empty() || v.template_id.size() > 64) {
      return common::InvalidField("variants.template_id", "each variant names a template");
    }
    if (v.weight < 1 || v.weight > 1000) {
      return common::InvalidField("variants.weight", "weights are 1..1000");
    }
  }
  const bool segment = !c.audience.segment_id.empty();
  const bool list = !c.audience.customer_ids.empty();
  const absl::Duration every = c.recurrence.interval;
  if (every != absl::ZeroDuration() && (every < kMinRecurrence || every > kMaxRecurrence)) {
    return common::InvalidField(
        "recurrence.interval_seconds",
        "interval_seconds is 0 (once) or 3600..7776000 (1 hour .. 90 days)");
  }
  if (c.recurrence.end_time && every == absl::ZeroDuration()) {
    return common::InvalidField("recurrence.end_time", "end_time is for a recurring campaign");
  }
  if (c.trigger.kind != TriggerKind::kNone && every != absl::ZeroDuration()) {
    return common::InvalidField("recurrence.interval_seconds",
                                "a triggered campaign does not recur: its events start it");
  }
  if (c.trigger.kind != TriggerKind::kNone) {
    if (segment || list) {
      return common::InvalidField("audience",
                                  "a triggered campaign has no audience: its trigger finds it");
    }
    const bool entered = c.trigger.kind == TriggerKind::kSegmentEntered;
    if (entered != !c.trigger.segment_id.empty() || c.trigger.segment_id.size() > 64) {
      return common::InvalidField("trigger.segment_id",
                                  "a segment_entered trigger names its segment (and only it)");
    }
    if (c.trigger.delay < absl::ZeroDuration() || c.trigger.delay > kMaxTriggerDelay) {
      return common::InvalidField("trigger.delay_seconds", "delay_seconds is 0..2592000 (30 days)");
    }
    if (c.trigger.kind == TriggerKind::kCartAbandoned && c.trigger.delay < kMinCartAbandonedDelay) {
      return common::InvalidField(
          "trigger.delay_seconds",
          "a cart_abandoned trigger waits at least 300 seconds for an order (delay_seconds)");
    }
  } else if (segment == list) {
    return common::InvalidField("audience",
                                "the audience is a segment_id or a list of customer_ids");
  }
  if (segment && c.audience.segment_id.size() > 64) {
    return common::InvalidField("audience.segment_id", "segment ids are at most 64 characters");
  }
  if (c.audience.customer_ids.size() > kMaxListSize) {
    return common::InvalidField("audience.customer_ids",
                                "at most 10,000 customers in a list; use a segment");
  }
  std::set<std::string> seen;
  for (const std::string& id : c.audience.customer_ids) {
    if (!common::IsUuid(id)) {
      return common::InvalidField("audience.customer_ids",
                                  absl::StrCat("\"", id, "\" is not a customer id (UUID)"));
    }
    if (!seen.insert(id).second) {
      return common::InvalidField("audience.customer_ids",
                                  absl::StrCat("customer ", id, " is listed twice"));
    }
  }
  if (c.holdout_bp > 5000) {
    return common::InvalidField("holdout_basis_points",
                                "holdout_basis_points is 0..5000 (at most half the audience)");
  }
  if (c.cost_per_message_minor < 0 || c.cost_per_message_minor > 1000000) {
    return common::InvalidField("cost_per_message_minor",
                                "cost_per_message_minor is 0..1000000 minor units");
  }
  if (c.cost_per_message_minor > 0 && !common::MinorUnitDigits(c.cost_currency_code)) {
    return common::InvalidField("cost_currency_code",
                                "a cost needs its currency: an ISO 4217 code such as EUR");
  }
  if (c.cost_per_message_minor == 0 && !c.cost_currency_code.empty()) {
    return common::InvalidField("cost_currency_code",
                                "cost_currency_code goes with a cost_per_message_minor above 0");
  }
  if (c.throttle_per_second < 0 || c.throttle_per_second > 10000) {
    return common::InvalidField("throttle_per_second", "throttle_per_second is 0..10000");
  }
  if (c.offer_count < 0 || c.offer_count > 10) {
    return common::InvalidField("offer_count", "offer_count is 0..10");
  }
  if (c.channel == Channel::kWebhook && !common::IsUuid(c.endpoint_id)) {
    return common::InvalidField("endpoint_id", "a webhook campaign names its endpoint_id");
  }
  if (c.channel != Channel::kWebhook && !c.endpoint_id.empty()) {
    return common::InvalidField("endpoint_id", "endpoint_id is only for webhook campaigns");
  }
  return absl::OkStatus();
}

absl::StatusOr<CampaignState> NextState(const Campaign& c, CampaignAction a) {
  switch (a) {
    case CampaignAction::kSchedule:
      if (c.state != CampaignState::kDraft) return Refuse(c, "scheduling", {CampaignState::kDraft});
      return CampaignState::kScheduled;
    case CampaignAction::kPause:
      if (c.state != CampaignState::kScheduled && c.state != CampaignState::kRunning) {
        return Refuse(c, "pausing", {CampaignState::kScheduled, CampaignState::kRunning});
      }
      return CampaignState::kPaused;
    case CampaignAction::kResume:
      if (c.state != CampaignState::kPaused) return Refuse(c, "resuming", {CampaignState::kPaused});
      return c.started_time ? CampaignState::kRunning : CampaignState::kScheduled;
    case CampaignAction::kCancel:
      if (c.state == CampaignState::kCompleted || c.state == CampaignState::kCancelled) {
        return Refuse(c, "cancelling",
                      {CampaignState::kDraft, CampaignState::kScheduled, CampaignState::kRunning,
                       CampaignState::kPaused});
      }
      return CampaignState::kCancelled;
  }
  return absl::InternalError("unknown campaign action");
}

absl::Time SendTimeOf(absl::Time start, int64_t index, int throttle_per_second) {
  if (throttle_per_second <= 0 || index <= 0) return start;
  // Whole microseconds, so rounding never drifts over a long campaign.
  return start + absl::Microseconds(index * 1000000 / throttle_per_second);
}

absl::string_view TriggerKindName(TriggerKind k) {
  switch (k) {
    case TriggerKind::kNone:
      return "";
    case TriggerKind::kSegmentEntered:
      return "segment_entered";
    case TriggerKind::kOrderPlaced:
      return "order_placed";
    case TriggerKind::kCartAbandoned:
      return "cart_abandoned";
  }
  return "";
}

std::optional<TriggerKind> TriggerKindFromName(absl::string_view name) {
  for (TriggerKind k : {TriggerKind::kNone, TriggerKind::kSegmentEntered, TriggerKind::kOrderPlaced,
                        TriggerKind::kCartAbandoned}) {
    if (TriggerKindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string TriggeredMessageKey(const Campaign& c, const std::string& customer_id,
                                const std::string& event_id) {
  std::string key = CampaignMessageKey(c.id, customer_id);
  if (c.trigger.reentry == Reentry::kEveryTime) absl::StrAppend(&key, ":", event_id);
  return key;
}

bool CampaignSends(CampaignState s) {
  return s == CampaignState::kRunning || s == CampaignState::kScheduled ||
         s == CampaignState::kCompleted;
}

std::string CampaignMessageKey(const std::string& campaign_id, const std::string& customer_id) {
  return absl::StrCat("campaign:", campaign_id, ":", customer_id);
}

std::string OccurrenceMessageKey(const Campaign& c, const std::string& customer_id) {
  std::string key = CampaignMessageKey(c.id, customer_id);
  if (c.occurrence > 0) absl::StrAppend(&key, ":", c.occurrence);
  return key;
}

std::optional<absl::Time> NextOccurrence(const Campaign& c, absl::Time now) {
  if (c.recurrence.interval <= absl::ZeroDuration() || !c.start_time) return std::nullopt;
  absl::Time next = *c.start_time + c.recurrence.interval;
  if (next <= now) {
    next += c.recurrence.interval * ((now - next) / c.recurrence.interval + 1);
  }
  if (c.recurrence.end_time && next > *c.recurrence.end_time) return std::nullopt;
  return next;
}

}  // namespace crm::delivery::domain
