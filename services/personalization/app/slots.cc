#include "services/personalization/app/slots.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "services/personalization/app/rules.h"

namespace crm::personalization::app {
namespace {

// Whether a variant targets topics: only then are the interests built.
bool Targeted(const domain::Slot& slot) {
  return std::any_of(slot.variants.begin(), slot.variants.end(),
                     [](const domain::SlotVariant& v) { return !v.topics.empty(); });
}

}  // namespace

Slots::Slots(SlotRepository& repository, const Recommender& recommender,
             SegmentationPeer& segmentation, const common::Clock* clock)
    : recommender_(recommender),
      segmentation_(segmentation),
      slots_(repository, &domain::Slot::slot_id,
             DefinitionKind{"slot", "slots", "SLOT_EXISTS", "SLOT_NOT_FOUND", "TOO_MANY_SLOTS",
                            kMaxSlotsPerTenant},
             clock ? *clock : system_clock_) {}

absl::Status Slots::Load() { return slots_.Load(); }

absl::StatusOr<domain::Slot> Slots::Create(const outbox::WriteMeta& meta, domain::Slot draft) {
  CRM_RETURN_IF_ERROR(domain::NormalizeSlot(draft, &CheckSegmentRule));
  return slots_.Create(meta, draft);
}

absl::StatusOr<domain::Slot> Slots::Update(const outbox::WriteMeta& meta, domain::Slot draft,
                                           const std::string& if_match) {
  CRM_RETURN_IF_ERROR(domain::NormalizeSlot(draft, &CheckSegmentRule));
  return slots_.Update(meta, draft, if_match);
}

absl::StatusOr<domain::Slot> Slots::Delete(const outbox::WriteMeta& meta,
                                           const std::string& slot_id,
                                           const std::string& if_match) {
  return slots_.Delete(meta, slot_id, if_match);
}

SlotAnswer Slots::Decide(const std::string& tenant, const domain::Slot& slot,
                         const std::string& unit, const Audience& audience,
                         const std::vector<bool>& rules, bool evaluated) const {
  SlotAnswer a;
  a.slot_version = slot.version;
  a.rules_evaluated = evaluated;
  if (audience.objected) {  // default content, nothing of theirs read
    a.decision.content = slot.fallback_content;
    a.decision.reason = domain::SlotReason::kNotPersonalized;
    return a;
  }
  a.decision = domain::Decide(slot, tenant, unit, rules, [&](const std::string& topic) {
    return audience.profile.Match(topic, audience.now);
  });
  return a;
}

absl::StatusOr<SlotAnswer> Slots::ForCustomer(const std::string& tenant,
                                              const std::string& customer_id,
                                              const std::string& slot_id) const {
  auto slot = slots_.Find(tenant, slot_id);
  CRM_ASSIGN_OR_RETURN(
      Audience audience,
      recommender_.CustomerAudience(tenant, customer_id, slot != nullptr && Targeted(*slot)));
  if (slot == nullptr) return slots_.NotFound();
  // The variants' rules, each asked once (none for an objecting customer).
  std::vector<bool> rules(slot->variants.size(), true);
  bool evaluated = true;
  if (!audience.objected) {
    std::vector<std::string> asked;
    for (const domain::SlotVariant& v : slot->variants) asked.push_back(v.rule);
    absl::StatusOr<std::map<std::string, bool>> matched =
        MatchRules(segmentation_, tenant, customer_id, asked);
    if (!matched.ok()) {
      evaluated = false;
      CRM_LOG(Warning)
              .Field("slot_id", slot_id)
              .Field("code", absl::StatusCodeToString(matched.status().code()))
          << "the slot's rules were not evaluated (their variants left out): "
          << matched.status().message();
    }
    for (std::size_t k = 0; k < slot->variants.size(); ++k) {
      const std::string& rule = slot->variants[k].rule;
      if (!rule.empty()) rules[k] = matched.ok() && matched->at(rule);
    }
  }
  return Decide(tenant, *slot, customer_id, audience, rules, evaluated);
}

absl::StatusOr<SlotAnswer> Slots::ForVisitor(const std::string& tenant,
                                             const std::string& visitor_id,
                                             const std::string& slot_id) const {
  auto slot = slots_.Find(tenant, slot_id);
  if (slot == nullptr) return slots_.NotFound();
  std::vector<bool> rules;
  for (const domain::SlotVariant& v : slot->variants) rules.push_back(v.rule.empty());
  return Decide(tenant, *slot, VisitorKey(visitor_id),
                recommender_.VisitorAudience(tenant, visitor_id, Targeted(*slot)), rules, true);
}

}  // namespace crm::personalization::app
