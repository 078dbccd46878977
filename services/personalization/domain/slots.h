#pragma once
// Content slots (interface personalization): a place in a page or a message
// (a home banner, a product-page block, an email block) with ordered
// variants. Each variant may carry an eligibility rule in the segment
// language (evaluated by the segmentation engine) and topic targeting (the
// customer's interest in one of its topics, domain/interests.h). The
// decision is the slot's fallback for a customer in the slot's holdout,
// else the first eligible variant (kFirstEligible) or the eligible variant
// whose topics match the customer best (kBestInterest, ties by order), else
// the fallback. A variant may split its content among arms (A/B), by the
// customer's bucket (domain/assignment.h): the same customer sees the same
// arm on every call, replica and restart.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::personalization::domain {

inline constexpr std::size_t kMaxSlotVariants = 20;
inline constexpr std::size_t kMaxVariantTopics = 10;
inline constexpr std::size_t kMaxVariantArms = 10;
inline constexpr std::size_t kMaxContentBytes = 16 * 1024;

struct ContentArm {
  std::string arm_id;
  std::string content;
  std::uint32_t weight = 1;  // 1..10000, relative to the variant's other arms
};

struct SlotVariant {
  std::string variant_id;
  std::string rule;                 // segment language; "" for everyone
  std::vector<std::string> topics;  // topic targeting (normalized); empty: none
  std::string content;              // opaque to the engine (text, HTML, JSON, an id)
  std::vector<ContentArm> arms;     // A/B instead of `content`; empty: none
};

enum class SlotSelection { kFirstEligible, kBestInterest };

struct Slot {
  std::string slot_id;
  std::string display_name;
  SlotSelection selection = SlotSelection::kFirstEligible;
  std::vector<SlotVariant> variants;
  std::string fallback_content;  // no variant eligible, the holdout, an objection
  std::uint32_t holdout_bp = 0;  // basis points of customers shown the fallback
  std::int64_t version = 0;      // +1 per write
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

// Checks a slot definition and normalizes its topics in place.
// INVALID_ARGUMENT (reason INVALID_FIELD) naming the field: slot_id
// ([a-z0-9][a-z0-9_-]{0,63}), display_name (1..200 characters), variants
// (1..20, unique ids of slot_id's form, each with content or arms, not
// both), variants.topics (at most 10 category paths), variants.arms (at
// most 10, unique ids, weights 1..10000), contents (at most 16 KiB each),
// holdout_basis_points (0..10000), variants.rule (`check_rule`'s refusal,
// its message kept: the segment language's line and column).
absl::Status NormalizeSlot(Slot& slot,
                           const std::function<absl::Status(const std::string&)>& check_rule);

// Whether `id` has the form of slot and variant ids.
bool IsSlotId(absl::string_view id);

enum class SlotReason {
  kRule,             // the first eligible variant (rules and topics)
  kInterest,         // the eligible variant the customer's interests match best
  kFallback,         // no variant eligible
  kHoldout,          // the customer is in the slot's holdout
  kNotPersonalized,  // the customer objected to profiling
};

struct SlotDecision {
  std::string variant_id;  // "" for the fallback
  std::string arm_id;      // "" when the variant has no arms
  std::string content;
  SlotReason reason = SlotReason::kFallback;
  double interest = 0;       // the chosen variant's topic match (0..1)
  std::uint32_t bucket = 0;  // the customer's bucket in the slot's holdout (0..9999)
};

// The experiment names the buckets are drawn from (domain/assignment.h).
std::string HoldoutExperiment(const Slot& slot);
std::string ArmExperiment(const Slot& slot, const SlotVariant& v);

// The decision for `unit` (a customer id, or "visitor:<id>") of `tenant`.
// rule_matches: per variant, whether its rule matched (true for a variant
// without one). interest: the customer's match of a topic (0..1).
SlotDecision Decide(const Slot& slot, absl::string_view tenant, absl::string_view unit,
                    const std::vector<bool>& rule_matches,
                    const std::function<double(const std::string&)>& interest);

}  // namespace crm::personalization::domain
