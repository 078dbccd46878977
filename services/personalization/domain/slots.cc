#include "services/personalization/domain/slots.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/text.h"
#include "services/personalization/domain/assignment.h"
#include "services/personalization/domain/interests.h"

namespace crm::personalization::domain {
namespace {

constexpr std::size_t kMaxIdLength = 64;
constexpr std::size_t kMaxDisplayName = 200;
constexpr std::uint32_t kMaxArmWeight = 10000;

absl::Status CheckContent(absl::string_view field, const std::string& content) {
  if (content.size() > kMaxContentBytes) {
    return common::InvalidField(field, absl::StrCat(field, " is at most 16384 bytes"));
  }
  return common::CheckStorableText(field, content);
}

absl::Status CheckVariant(SlotVariant& v,
                          const std::function<absl::Status(const std::string&)>& check_rule) {
  if (!IsSlotId(v.variant_id)) {
    return common::InvalidField("variants", absl::StrCat("variant id \"", v.variant_id,
                                                         "\" must match [a-z0-9][a-z0-9_-]{0,63}"));
  }
  const std::string where = absl::StrCat("variant \"", v.variant_id, "\": ");
  if (!v.rule.empty()) {
    if (absl::Status s = common::CheckStorableText("variants.rule", v.rule); !s.ok()) return s;
    if (absl::Status s = check_rule(v.rule); !s.ok()) {
      return common::InvalidField("variants.rule", absl::StrCat(where, s.message()));
    }
  }
  if (v.topics.size() > kMaxVariantTopics) {
    return common::InvalidField("variants.topics", absl::StrCat(where, "at most 10 topics"));
  }
  for (std::string& t : v.topics) {
    absl::StatusOr<std::string> topic = NormalizeTopic(t);
    if (!topic.ok()) {
      return common::InvalidField(
          "variants.topics", absl::StrCat(where, "topic \"", t, "\": ", topic.status().message()));
    }
    t = *std::move(topic);
  }
  if (v.arms.empty() == v.content.empty()) {
    return common::InvalidField("variants",
                                absl::StrCat(where, "give either content or arms (A/B), not both"));
  }
  if (absl::Status s = CheckContent("variants.content", v.content); !s.ok()) return s;
  if (v.arms.size() > kMaxVariantArms) {
    return common::InvalidField("variants.arms", absl::StrCat(where, "at most 10 arms"));
  }
  absl::flat_hash_set<std::string> arm_ids;
  for (const ContentArm& a : v.arms) {
    if (!IsSlotId(a.arm_id) || !arm_ids.insert(a.arm_id).second) {
      return common::InvalidField(
          "variants.arms",
          absl::StrCat(where, "arm ids must be unique and match [a-z0-9][a-z0-9_-]{0,63}"));
    }
    if (a.weight < 1 || a.weight > kMaxArmWeight) {
      return common::InvalidField("variants.arms",
                                  absl::StrCat(where, "arm weights are 1 to 10000"));
    }
    if (a.content.empty()) {
      return common::InvalidField("variants.arms", absl::StrCat(where, "an arm needs content"));
    }
    if (absl::Status s = CheckContent("variants.arms.content", a.content); !s.ok()) return s;
  }
  return absl::OkStatus();
}

double TopicMatch(const SlotVariant& v, const std::function<double(const std::string&)>& interest) {
  double best = 0;
  for (const std::string& t : v.topics) best = std::max(best, interest(t));
  return best;
}

}  // namespace

bool IsSlotId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

absl::Status NormalizeSlot(Slot& slot,
                           const std::function<absl::Status(const std::string&)>& check_rule) {
  if (!IsSlotId(slot.slot_id)) {
    return common::InvalidField("slot_id", "slot_id must match [a-z0-9][a-z0-9_-]{0,63}");
  }
  if (slot.display_name.empty() || slot.display_name.size() > kMaxDisplayName) {
    return common::InvalidField("display_name", "display_name must be 1 to 200 characters");
  }
  if (absl::Status s = common::CheckStorableText("display_name", slot.display_name); !s.ok()) {
    return s;
  }
  if (slot.variants.empty() || slot.variants.size() > kMaxSlotVariants) {
    return common::InvalidField("variants", "a slot has 1 to 20 variants");
  }
  absl::flat_hash_set<std::string> ids;
  for (SlotVariant& v : slot.variants) {
    if (absl::Status s = CheckVariant(v, check_rule); !s.ok()) return s;
    if (!ids.insert(v.variant_id).second) {
      return common::InvalidField("variants",
                                  absl::StrCat("variant id \"", v.variant_id, "\" is used twice"));
    }
  }
  if (absl::Status s = CheckContent("fallback_content", slot.fallback_content); !s.ok()) return s;
  if (slot.holdout_bp > kBuckets) {
    return common::InvalidField("holdout_basis_points",
                                "holdout_basis_points must be between 0 and 10000");
  }
  return absl::OkStatus();
}

std::string HoldoutExperiment(const Slot& slot) { return absl::StrCat("slot:", slot.slot_id); }

std::string ArmExperiment(const Slot& slot, const SlotVariant& v) {
  return absl::StrCat("slot:", slot.slot_id, "/", v.variant_id);
}

SlotDecision Decide(const Slot& slot, absl::string_view tenant, absl::string_view unit,
                    const std::vector<bool>& rule_matches,
                    const std::function<double(const std::string&)>& interest) {
  SlotDecision d;
  d.content = slot.fallback_content;
  d.bucket = Bucket(tenant, HoldoutExperiment(slot), unit);
  if (d.bucket < slot.holdout_bp) {
    d.reason = SlotReason::kHoldout;
    return d;
  }
  const SlotVariant* chosen = nullptr;
  double chosen_match = -1;
  for (std::size_t k = 0; k < slot.variants.size(); ++k) {
    const SlotVariant& v = slot.variants[k];
    if (k >= rule_matches.size() || !rule_matches[k]) continue;
    const double match = v.topics.empty() ? 0 : TopicMatch(v, interest);
    if (!v.topics.empty() && match <= 0) continue;  // targeted at topics the customer lacks
    if (slot.selection == SlotSelection::kFirstEligible) {
      chosen = &v;
      chosen_match = match;
      break;
    }
    if (match > chosen_match) {
      chosen = &v;
      chosen_match = match;
    }
  }
  if (chosen == nullptr) return d;  // kFallback
  d.variant_id = chosen->variant_id;
  d.interest = chosen_match;
  d.reason = slot.selection == SlotSelection::kBestInterest && chosen_match > 0
                 ? SlotReason::kInterest
                 : SlotReason::kRule;
  if (chosen->arms.empty()) {
    d.content = chosen->content;
    return d;
  }
  Experiment e;
  e.key = ArmExperiment(slot, *chosen);
  for (const ContentArm& a : chosen->arms) e.arms.push_back(Arm{a.arm_id, a.weight});
  absl::StatusOr<Assignment> a = Assign(tenant, e, unit);
  const std::string arm = a.ok() ? a->arm : chosen->arms.front().arm_id;  // arms checked at save
  for (const ContentArm& c : chosen->arms) {
    if (c.arm_id == arm) {
      d.arm_id = c.arm_id;
      d.content = c.content;
    }
  }
  return d;
}

}  // namespace crm::personalization::domain
