#include "services/delivery/app/campaigns.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "services/delivery/app/delivery.h"
#include "services/delivery/domain/not_found.h"
#include "services/personalization/domain/assignment.h"

namespace crm::delivery::app {
absl::Status Campaigns::CheckReferences(const std::string& tenant, const domain::Campaign& c) {
  for (const domain::Variant& v : c.variants) {
    CRM_RETURN_IF_ERROR(CheckChannelReferences(repository_, renderer_, tenant, c.channel,
                                               v.template_id, c.endpoint_id, "variants.template_id",
                                               "endpoint_id"));
  }
  if (!c.audience.segment_id.empty()) {
    absl::Status s = segments_.CheckSegment(tenant, c.audience.segment_id);
    if (!s.ok()) return common::WithField(s, "audience.segment_id");
  }
  if (!c.trigger.segment_id.empty()) {
    absl::Status s = segments_.CheckSegment(tenant, c.trigger.segment_id);
    if (!s.ok()) return common::WithField(s, "trigger.segment_id");
  }
  return absl::OkStatus();
}

absl::StatusOr<domain::Campaign> Campaigns::Create(const outbox::WriteMeta& meta,
                                                   domain::Campaign c) {
  CRM_RETURN_IF_ERROR(domain::ValidateCampaign(c));
  CRM_RETURN_IF_ERROR(CheckReferences(meta.tenant_id, c));
  const absl::Time now = clock_.Now();
  c.id = ids_.NewId();
  c.state = domain::CampaignState::kDraft;
  c.version = 1;
  c.create_time = now;
  c.update_time = now;
  c.start_time.reset();
  c.started_time.reset();
  c.completed_time.reset();
  c.cursor.clear();
  c.expanded = false;
  c.targeted = 0;
  return repository_.Run<domain::Campaign>(meta, c.id,
                                           [&](DeliveryTx& tx) -> absl::StatusOr<domain::Campaign> {
                                             tx.SaveCampaign(c);
                                             tx.EmitCampaign("campaign.created", c);
                                             return c;
                                           });
}

absl::StatusOr<domain::Campaign> Campaigns::Get(const std::string& tenant, const std::string& id) {
  if (!common::IsUuid(id)) return domain::CampaignNotFound(id);
  return repository_.GetCampaign(tenant, id);
}

absl::StatusOr<std::vector<domain::Campaign>> Campaigns::List(const std::string& tenant) {
  return repository_.ListCampaigns(tenant);
}

absl::StatusOr<domain::Campaign> Campaigns::Update(const outbox::WriteMeta& meta,
                                                   const std::string& id, domain::Campaign draft,
                                                   const std::string& if_match) {
  if (!common::IsUuid(id)) return domain::CampaignNotFound(id);
  CRM_RETURN_IF_ERROR(domain::ValidateCampaign(draft));
  CRM_RETURN_IF_ERROR(CheckReferences(meta.tenant_id, draft));
  return repository_.Run<domain::Campaign>(
      meta, id, [&](DeliveryTx& tx) -> absl::StatusOr<domain::Campaign> {
        CRM_ASSIGN_OR_RETURN(domain::Campaign c, tx.LoadCampaignForUpdate(id));
        CRM_RETURN_IF_ERROR(common::CheckEtag("campaign", absl::StrCat(c.version), if_match));
        if (c.state != domain::CampaignState::kDraft) {
          return common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                                        "campaign ", id, " is ", domain::CampaignStateName(c.state),
                                        "; only a draft is edited (cancel it and create another)")),
                                    "CAMPAIGN_STATE_INVALID");
        }
        draft.id = c.id;
        draft.state = c.state;
        draft.version = c.version + 1;
        draft.create_time = c.create_time;
        draft.update_time = clock_.Now();
        tx.SaveCampaign(draft);
        tx.EmitCampaign("campaign.updated", draft);
        return draft;
      });
}

absl::StatusOr<domain::Campaign> Campaigns::Schedule(const outbox::WriteMeta& meta,
                                                     const std::string& id,
                                                     std::optional<absl::Time> start) {
  if (start && *start < clock_.Now() - absl::Minutes(1)) {
    return common::InvalidField("start_time",
                                "start_time is in the past; leave it out to start now");
  }
  return Act(meta, id, domain::CampaignAction::kSchedule, start);
}
absl::StatusOr<domain::Campaign> Campaigns::Pause(const outbox::WriteMeta& meta,
                                                  const std::string& id) {
  return Act(meta, id, domain::CampaignAction::kPause, std::nullopt);
}
absl::StatusOr<domain::Campaign> Campaigns::Resume(const outbox::WriteMeta& meta,
                                                   const std::string& id) {
  return Act(meta, id, domain::CampaignAction::kResume, std::nullopt);
}
absl::StatusOr<domain::Campaign> Campaigns::Cancel(const outbox::WriteMeta& meta,
                                                   const std::string& id) {
  return Act(meta, id, domain::CampaignAction::kCancel, std::nullopt);
}

absl::StatusOr<domain::Campaign> Campaigns::Act(const outbox::WriteMeta& meta,
                                                const std::string& id,
                                                domain::CampaignAction action,
                                                std::optional<absl::Time> start) {
  if (!common::IsUuid(id)) return domain::CampaignNotFound(id);
  const absl::Time now = clock_.Now();
  std::vector<Ledger::Due> due;
  CRM_ASSIGN_OR_RETURN(
      domain::Campaign out,
      repository_.Run<domain::Campaign>(
          meta, id, [&](DeliveryTx& tx) -> absl::StatusOr<domain::Campaign> {
            due.clear();
            CRM_ASSIGN_OR_RETURN(domain::Campaign c, tx.LoadCampaignForUpdate(id));
            CRM_ASSIGN_OR_RETURN(domain::CampaignState next, domain::NextState(c, action));
            const char* event = "";
            switch (action) {
              case domain::CampaignAction::kSchedule:
                c.start_time = start.value_or(now);
                event = "campaign.scheduled";
                break;
              case domain::CampaignAction::kPause:
                event = "campaign.paused";
                break;
              case domain::CampaignAction::kResume: {
                event = "campaign.resumed";
                if (next == domain::CampaignState::kRunning) {
                  // The rows left wait for the throttle again from now.
                  CRM_ASSIGN_OR_RETURN(int64_t open,
                                       tx.RespaceCampaignMessages(id, now, c.throttle_per_second));
                  c.pace_start = now;
                  c.paced = open;
                }
                break;
              }
              case domain::CampaignAction::kCancel: {
                CRM_ASSIGN_OR_RETURN(int64_t cancelled, tx.CancelCampaignMessages(id));
                (void)cancelled;
                c.completed_time = now;
                event = "campaign.cancelled";
                break;
              }
            }
            c.state = next;
            c.version += 1;
            c.update_time = now;
            tx.SaveCampaign(c);
            tx.EmitCampaign(event, c);
            return c;
          }));
  return out;
}

absl::StatusOr<CampaignResults> Campaigns::Results(const std::string& tenant,
                                                   const std::string& id) {
  CRM_ASSIGN_OR_RETURN(domain::Campaign c, Get(tenant, id));
  CRM_ASSIGN_OR_RETURN(std::vector<CampaignCount> counts,
                       repository_.CountCampaignMessages(tenant, id));
  CampaignResults out;
  out.campaign = c;
  for (const domain::Variant& v : c.variants) out.variants.push_back({v.id});
  if (c.holdout_bp > 0) out.variants.push_back({""});
  for (const CampaignCount& n : counts) {
    VariantResults* r = nullptr;
    for (VariantResults& x : out.variants) {
      if (x.variant_id == n.variant_id) r = &x;
    }
    if (r == nullptr) {
      out.variants.push_back({n.variant_id});
      r = &out.variants.back();
    }
    r->targeted += n.count;
    r->opened += n.opened;
    r->clicked += n.clicked;
    r->unsubscribed += n.unsubscribed;
    r->delivered += n.delivered;
    r->bounced += n.bounced;
    switch (n.state) {
      case domain::State::kQueued:
      case domain::State::kSending:
      case domain::State::kRetrying:
        r->pending += n.count;
        break;
      case domain::State::kSent:
        r->sent += n.count;
        break;
      case domain::State::kFailed:
        r->failed += n.count;
        break;
      case domain::State::kUnknown:
        r->unknown += n.count;
        break;
      case domain::State::kCancelled:
        r->cancelled += n.count;
        break;
      case domain::State::kSuppressed:
        r->suppressed[std::string(domain::SuppressionName(n.suppression))] += n.count;
        break;
    }
  }
  CRM_ASSIGN_OR_RETURN(std::vector<ConversionCount> conversions,
                       repository_.CountCampaignConversions(tenant, id));
  for (const ConversionCount& n : conversions) {
    VariantResults* r = nullptr;
    for (VariantResults& x : out.variants) {
      if (x.variant_id == n.variant_id) r = &x;
    }
    if (r == nullptr) continue;  // rows of a variant that has none left cannot convert
    const bool credited = n.kind == ConversionKind::kCredited;
    if (n.currency_code.empty()) {
      (credited ? r->converted : r->ordered) = n.messages;
    } else if (credited) {
      r->revenue_minor[n.currency_code] += n.revenue_minor;
    }
  }
  const VariantResults* holdout = nullptr;
  for (VariantResults& r : out.variants) {
    r.exposed = r.targeted - r.pending - r.cancelled;
    if (r.variant_id.empty()) holdout = &r;
  }
  for (VariantResults& r : out.variants) {
    if (holdout != nullptr && !r.variant_id.empty()) {
      r.lift = domain::LiftOverHoldout(r.ordered, r.exposed, holdout->ordered, holdout->exposed);
    }
    if (c.cost_per_message_minor > 0 && r.sent > 0) {
      r.cost_minor = r.sent * c.cost_per_message_minor;
      auto revenue = r.revenue_minor.find(c.cost_currency_code);
      const int64_t earned = revenue == r.revenue_minor.end() ? 0 : revenue->second;
      r.roi = static_cast<double>(earned - r.cost_minor) / static_cast<double>(r.cost_minor);
    }
  }
  CRM_ASSIGN_OR_RETURN(std::vector<OfferCount> offers, repository_.CountCampaignOffers(tenant, id));
  for (const OfferCount& n : offers) {
    if (out.offers.empty() || out.offers.back().offer_id != n.offer_id) {
      out.offers.push_back({n.offer_id});
    }
    OfferResults& o = out.offers.back();
    if (n.currency_code.empty()) {
      o.sent = n.messages;
    } else {
      o.converted += n.messages;
      o.revenue_minor[n.currency_code] += n.revenue_minor;
    }
  }
  return out;
}

absl::StatusOr<int> Campaigns::Tick() {
  CRM_ASSIGN_OR_RETURN(std::vector<DeliveryRepository::CampaignRef> active,
                       repository_.ActiveCampaigns(100));
  int busy = 0;
  for (const DeliveryRepository::CampaignRef& ref : active) {
    absl::StatusOr<bool> did = Step(ref.tenant, ref.id);
    if (!did.ok()) {
      observability::LogLine(observability::Severity::kWarning)
              .Field("tenant_id", ref.tenant)
              .Field("campaign_id", ref.id)
              .Field("error", did.status().ToString())
          << "campaign step failed; the next round tries again";
      continue;
    }
    if (*did) ++busy;
  }
  return busy;
}

absl::StatusOr<bool> Campaigns::Step(const std::string& tenant, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(domain::Campaign c, repository_.GetCampaign(tenant, id));
  const absl::Time now = clock_.Now();
  if (c.state == domain::CampaignState::kScheduled) {
    if (!c.start_time || *c.start_time > now) return false;
    CRM_ASSIGN_OR_RETURN(c, repository_.Run<domain::Campaign>(
                                RunnerMeta(tenant, "StartCampaign"), id,
                                [&](DeliveryTx& tx) -> absl::StatusOr<domain::Campaign> {
                                  CRM_ASSIGN_OR_RETURN(domain::Campaign cur,
                                                       tx.LoadCampaignForUpdate(id));
                                  if (cur.state != domain::CampaignState::kScheduled) return cur;
                                  cur.state = domain::CampaignState::kRunning;
                                  cur.started_time = now;
                                  cur.pace_start = std::max(now, cur.start_time.value_or(now));
                                  cur.paced = 0;
                                  cur.version += 1;
                                  cur.update_time = now;
                                  tx.SaveCampaign(cur);
                                  tx.EmitCampaign("campaign.started", cur);
                                  return cur;
                                }));
  }
  if (c.state != domain::CampaignState::kRunning) return false;
  // A triggered campaign runs until it is paused or cancelled: its rows
  // come from its events (Trigger).
  if (c.trigger.kind != domain::TriggerKind::kNone) return false;
  if (!c.expanded) return Expand(tenant, c);
  // Every member has its row: done once every row is final.
  CRM_ASSIGN_OR_RETURN(domain::Campaign done,
                       repository_.Run<domain::Campaign>(
                           RunnerMeta(tenant, "CompleteCampaign"), id,
                           [&](DeliveryTx& tx) -> absl::StatusOr<domain::Campaign> {
                             CRM_ASSIGN_OR_RETURN(domain::Campaign cur,
                                                  tx.LoadCampaignForUpdate(id));
                             if (cur.state != domain::CampaignState::kRunning || !cur.expanded)
                               return cur;
                             CRM_ASSIGN_OR_RETURN(int64_t open, tx.CountOpenCampaignMessages(id));
                             if (open > 0) return cur;
                             if (std::optional<absl::Time> next =
                                     domain::NextOccurrence(cur, now)) {
                               // A recurring campaign: scheduled again for
                               // its next occurrence, its audience read anew.
                               cur.state = domain::CampaignState::kScheduled;
                               cur.start_time = *next;
                               cur.occurrence += 1;
                               cur.cursor.clear();
                               cur.expanded = false;
                               cur.pace_start.reset();
                               cur.paced = 0;
                               cur.version += 1;
                               cur.update_time = now;
                               tx.SaveCampaign(cur);
                               tx.EmitCampaign("campaign.occurrence_completed", cur);
                               return cur;
                             }
                             cur.state = domain::CampaignState::kCompleted;
                             cur.completed_time = now;
                             cur.version += 1;
                             cur.update_time = now;
                             tx.SaveCampaign(cur);
                             tx.EmitCampaign("campaign.completed", cur);
                             return cur;
                           }));
  return done.state == domain::CampaignState::kCompleted || done.occurrence != c.occurrence;
}

absl::StatusOr<bool> Campaigns::Expand(const std::string& tenant, const domain::Campaign& c) {
  // The page is read before the write (a peer call holds no transaction);
  // the write checks the cursor is still where this page started.
  MemberPage page;
  if (!c.audience.segment_id.empty()) {
    absl::StatusOr<MemberPage> got =
        segments_.Members(tenant, c.audience.segment_id, c.cursor, options_.page_size);
    if (got.status().code() == absl::StatusCode::kNotFound) {
      page = {};  // the segment was deleted: the audience is what it had so far
    } else {
      CRM_RETURN_IF_ERROR(got.status());
      page = *std::move(got);
    }
  } else {
    int64_t offset = 0;
    if (!c.cursor.empty() && !absl::SimpleAtoi(c.cursor, &offset)) {
      return absl::DataLossError("campaign cursor unreadable");
    }
    const auto& list = c.audience.customer_ids;
    const int64_t end =
        std::min<int64_t>(static_cast<int64_t>(list.size()), offset + options_.page_size);
    for (int64_t i = offset; i < end; ++i) page.customer_ids.push_back(list[i]);
    if (end < static_cast<int64_t>(list.size())) page.next_cursor = absl::StrCat(end);
  }
  const absl::Time now = clock_.Now();
  const absl::Time pace_start = c.pace_start.value_or(now);
  std::vector<domain::Message> rows;
  int64_t paced = c.paced;
  for (const std::string& customer : page.customer_ids) {
    // Holdout rows take no place in the pace.
    CRM_ASSIGN_OR_RETURN(domain::Message m,
                         RowFor(tenant, c, customer, domain::OccurrenceMessageKey(c, customer),
                                domain::SendTimeOf(pace_start, paced, c.throttle_per_second)));
    if (m.state == domain::State::kQueued) ++paced;
    rows.push_back(std::move(m));
  }
  std::vector<std::string> inserted;
  CRM_ASSIGN_OR_RETURN(domain::Campaign after,
                       repository_.Run<domain::Campaign>(
                           RunnerMeta(tenant, "ExpandCampaign"), c.id,
                           [&](DeliveryTx& tx) -> absl::StatusOr<domain::Campaign> {
                             inserted.clear();
                             CRM_ASSIGN_OR_RETURN(domain::Campaign cur,
                                                  tx.LoadCampaignForUpdate(c.id));
                             // Another replica took this page, or the campaign changed state.
                             if (cur.state != domain::CampaignState::kRunning || cur.expanded ||
                                 cur.cursor != c.cursor || cur.paced != c.paced) {
                               return cur;
                             }
                             CRM_ASSIGN_OR_RETURN(inserted, tx.InsertCampaignMessages(rows));
                             cur.cursor = page.next_cursor;
                             cur.expanded = page.next_cursor.empty();
                             cur.targeted += static_cast<int64_t>(inserted.size());
                             cur.pace_start = pace_start;
                             cur.paced = paced;
                             cur.update_time = now;
                             tx.SaveCampaign(cur);
                             return cur;
                           }));
  (void)after;
  QueueDue(tenant, rows, inserted);
  return true;
}

absl::StatusOr<domain::Message> Campaigns::RowFor(const std::string& tenant,
                                                  const domain::Campaign& c,
                                                  const std::string& customer,
                                                  std::string request_id, absl::Time due) {
  personalization::domain::Experiment experiment;
  experiment.key = c.id;
  experiment.holdout_bp = c.holdout_bp;
  for (const domain::Variant& v : c.variants) experiment.arms.push_back({v.id, v.weight});
  CRM_ASSIGN_OR_RETURN(personalization::domain::Assignment a,
                       personalization::domain::Assign(tenant, experiment, customer));
  const absl::Time now = clock_.Now();
  domain::Message m;
  m.id = ids_.NewId();
  m.customer_id = customer;
  m.channel = c.channel;
  m.purpose = c.purpose;
  m.endpoint_id = c.endpoint_id;
  m.offer_count = c.offer_count;
  m.max_attempts = options_.max_attempts;
  m.campaign_id = c.id;
  m.request_id = std::move(request_id);
  m.create_time = now;
  m.update_time = now;
  if (a.holdout) {
    // Kept out, and counted, for the lift against the variants.
    m.state = domain::State::kSuppressed;
    m.suppression = domain::Suppression::kHoldout;
    m.template_id = c.variants.front().template_id;
  } else {
    m.variant_id = a.arm;
    for (const domain::Variant& v : c.variants) {
      if (v.id == a.arm) m.template_id = v.template_id;
    }
    m.state = domain::State::kQueued;
    m.next_attempt_time = due;
  }
  return m;
}

void Campaigns::QueueDue(const std::string& tenant, const std::vector<domain::Message>& rows,
                         const std::vector<std::string>& inserted) {
  // The rows due now go on the queue at once; later ones when the sweeper
  // finds them due.
  const absl::Time now = clock_.Now();
  std::vector<Ledger::Due> due;
  for (const domain::Message& m : rows) {
    if (m.state != domain::State::kQueued || *m.next_attempt_time > now) continue;
    if (std::find(inserted.begin(), inserted.end(), m.id) != inserted.end()) {
      due.push_back({tenant, m.id});
    }
  }
  if (due.empty()) return;
  absl::Status s = queue_.Enqueue(due);
  if (!s.ok()) {
    observability::LogLine(observability::Severity::kWarning).Field("error", s.ToString())
        << "campaign rows not queued; the sweeper queues them";
  }
}

absl::StatusOr<int> Campaigns::Trigger(const std::string& tenant, const TriggerEvent& e) {
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Campaign> campaigns,
                       repository_.TriggeredCampaigns(tenant, e.kind));
  int added = 0;
  const absl::Time now = clock_.Now();
  for (const domain::Campaign& c : campaigns) {
    if (e.kind == domain::TriggerKind::kSegmentEntered && c.trigger.segment_id != e.segment_id) {
      continue;
    }
    // An event delivered late still waits the delay from when it happened,
    // not from now; one older than that is due at once.
    const absl::Time due = std::max(now, e.time + c.trigger.delay);
    CRM_ASSIGN_OR_RETURN(domain::Message row,
                         RowFor(tenant, c, e.customer_id,
                                domain::TriggeredMessageKey(c, e.customer_id, e.event_id), due));
    std::vector<domain::Message> rows{row};
    std::vector<std::string> inserted;
    CRM_ASSIGN_OR_RETURN(domain::Campaign after,
                         repository_.Run<domain::Campaign>(
                             RunnerMeta(tenant, "TriggerCampaign"), c.id,
                             [&](DeliveryTx& tx) -> absl::StatusOr<domain::Campaign> {
                               inserted.clear();
                               CRM_ASSIGN_OR_RETURN(domain::Campaign cur,
                                                    tx.LoadCampaignForUpdate(c.id));
                               if (cur.state != domain::CampaignState::kRunning) return cur;
                               if (c.trigger.kind == domain::TriggerKind::kCartAbandoned) {
                                 // One pending reminder per customer: a
                                 // further item postpones it.
                                 // (A holdout row has no due time: the
                                 // event's is used.)
                                 CRM_ASSIGN_OR_RETURN(bool postponed,
                                                      tx.PostponePending(c.id, e.customer_id, due));
                                 if (postponed) return cur;
                               }
                               CRM_ASSIGN_OR_RETURN(inserted, tx.InsertCampaignMessages(rows));
                               if (inserted.empty()) return cur;
                               cur.targeted += static_cast<int64_t>(inserted.size());
                               cur.update_time = now;
                               tx.SaveCampaign(cur);
                               return cur;
                             }));
    (void)after;
    QueueDue(tenant, rows, inserted);
    added += static_cast<int>(inserted.size());
  }
  return added;
}

absl::StatusOr<int> Campaigns::ReachGoal(const std::string& tenant, const std::string& customer_id,
                                         absl::Time placed) {
  CRM_ASSIGN_OR_RETURN(std::vector<domain::Campaign> campaigns,
                       repository_.TriggeredCampaigns(tenant, domain::TriggerKind::kCartAbandoned));
  int suppressed = 0;
  for (const domain::Campaign& c : campaigns) {
    CRM_ASSIGN_OR_RETURN(
        bool done,
        repository_.Run<bool>(
            RunnerMeta(tenant, "ReachGoal"), c.id, [&](DeliveryTx& tx) -> absl::StatusOr<bool> {
              CRM_ASSIGN_OR_RETURN(
                  std::vector<domain::Message> rows,
                  tx.SuppressPending(c.id, customer_id, placed + c.trigger.delay,
                                     domain::Suppression::kGoalReached,
                                     "goal reached: the customer placed an order"));
              for (const domain::Message& m : rows) tx.EmitMessage("message.suppressed", m);
              suppressed += static_cast<int>(rows.size());
              return true;
            }));
    (void)done;
  }
  return suppressed;
}

}  // namespace crm::delivery::app
