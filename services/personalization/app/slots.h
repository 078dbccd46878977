#pragma once
// The content slot use cases: definitions written through the unit of work
// (checked at save time: the segment language's rules compiled, topics
// normalized), kept in memory per tenant, and decided per customer or
// visitor from the segmentation engine's match of the rules and the
// interests the Recommender holds (domain/slots.h).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/outbox/write_meta.h"
#include "services/personalization/app/definitions.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/app/recommender.h"
#include "services/personalization/domain/slots.h"

namespace crm::personalization::app {

inline constexpr std::size_t kMaxSlotsPerTenant = 500;

struct SlotAnswer {
  domain::SlotDecision decision;
  std::int64_t slot_version = 0;
  // False when the segmentation engine could not evaluate the rules: the
  // variants with a rule were left out (their audience unknown).
  bool rules_evaluated = true;
};

class Slots {
 public:
  Slots(SlotRepository& repository, const Recommender& recommender, SegmentationPeer& segmentation,
        const common::Clock* clock = nullptr);

  // Every tenant's slots from the repository (at start).
  absl::Status Load();

  // ALREADY_EXISTS (SLOT_EXISTS) for a taken id; FAILED_PRECONDITION
  // (TOO_MANY_SLOTS) beyond kMaxSlotsPerTenant; INVALID_ARGUMENT as
  // domain::NormalizeSlot.
  absl::StatusOr<domain::Slot> Create(const outbox::WriteMeta& meta, domain::Slot draft);
  // Replaces the definition. if_match ("": any) is the version read:
  // ABORTED (ETAG_MISMATCH) when the slot is at another. NOT_FOUND
  // (SLOT_NOT_FOUND).
  absl::StatusOr<domain::Slot> Update(const outbox::WriteMeta& meta, domain::Slot draft,
                                      const std::string& if_match);
  absl::StatusOr<domain::Slot> Delete(const outbox::WriteMeta& meta, const std::string& slot_id,
                                      const std::string& if_match);
  absl::StatusOr<domain::Slot> Get(const std::string& tenant, const std::string& slot_id) const {
    return slots_.Get(tenant, slot_id);
  }
  std::vector<domain::Slot> List(const std::string& tenant) const {  // id order
    return slots_.List(tenant);
  }

  // The decision for a customer (NOT_FOUND CUSTOMER_NOT_FOUND when the
  // engine does not know them, SLOT_NOT_FOUND) or a visitor (variants with
  // a rule are left out: a visitor has no profile to evaluate).
  absl::StatusOr<SlotAnswer> ForCustomer(const std::string& tenant, const std::string& customer_id,
                                         const std::string& slot_id) const;
  absl::StatusOr<SlotAnswer> ForVisitor(const std::string& tenant, const std::string& visitor_id,
                                        const std::string& slot_id) const;

 private:
  SlotAnswer Decide(const std::string& tenant, const domain::Slot& slot, const std::string& unit,
                    const Audience& audience, const std::vector<bool>& rules, bool evaluated) const;

  const Recommender& recommender_;
  SegmentationPeer& segmentation_;
  common::SystemClock system_clock_;
  Definitions<domain::Slot> slots_;
};

}  // namespace crm::personalization::app
