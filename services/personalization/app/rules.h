#pragma once
// The segment-language rules of slots and offers: checked at save time with
// segmentation's own compiler, evaluated per call by the segmentation
// engine (SegmentationPeer::Match).
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/personalization/app/ports.h"

namespace crm::personalization::app {

// OK when `rule` compiles in the segment language (the segments it names
// are checked when it is evaluated: segments change after a save).
absl::Status CheckSegmentRule(const std::string& rule);

// Whether the customer matches each distinct non-empty rule of `rules`, in
// calls of at most 50 expressions. A customer segmentation does not know
// (NOT_FOUND) matches none; any other failure is returned.
absl::StatusOr<std::map<std::string, bool>> MatchRules(SegmentationPeer& segmentation,
                                                       const std::string& tenant,
                                                       const std::string& customer_id,
                                                       const std::vector<std::string>& rules);

}  // namespace crm::personalization::app
