#pragma once
// Survivorship rules of merge and unmerge (pure).
//  - scalar profile fields (names, address, birthday, locale, time zone,
//    lifecycle stage, owner): the survivor's value unless empty, then the
//    source's;
//  - anniversaries and custom attributes: united, the survivor wins a clash;
//  - identities: united (the source's move to the survivor);
//  - consents: per (channel, purpose) the most restrictive current status
//    of the two: opted-out > pending > opted-in (a merge never turns an
//    opt-out into an opt-in).
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/customer_store/domain/customer.h"

namespace crm::customer_store::domain {

struct MergePlan {
  Customer merged;                        // the survivor after the merge
  std::vector<std::string> filled_paths;  // profile paths whose value came from the source
};

MergePlan PlanMerge(const Customer& survivor, const Customer& source);

// The more restrictive of two statuses (unspecified loses to anything).
ConsentStatus MostRestrictive(ConsentStatus a, ConsentStatus b);

// Consent records to append to the survivor, stamped `at`, so that after the
// source's history moves over, the current state of every (channel, purpose)
// of the source is the most restrictive of both customers' current states.
std::vector<Consent> ResolveConsents(const std::vector<Consent>& survivor_current,
                                     const std::vector<Consent>& source_current, absl::Time at,
                                     const std::string& source_label);

// Undo of the profile part: each filled path goes back to its pre-merge
// value if the survivor still holds the value the merge put there (later
// edits are kept).
Customer UndoMergeProfile(const Customer& current, const Customer& before_merge,
                          const Customer& after_merge,
                          const std::vector<std::string>& filled_paths);

// True when both customers hold the same value at `path` (a path of
// ApplyUpdateMask).
bool SameAtPath(const Customer& a, const Customer& b, const std::string& path);

}  // namespace crm::customer_store::domain
