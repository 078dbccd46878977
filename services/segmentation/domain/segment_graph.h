#pragma once
// References between segments (in_segment("id")) must form no cycle: a segment
// that depends on itself, directly or through others, has no defined
// membership. Checked when a segment is created or its expression edited.
#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::segmentation::domain {

// segment id -> the ids its expression references (SegmentDependencies::segments).
using SegmentGraph = std::map<std::string, std::set<std::string>>;

// Checks that giving `segment_id` (new, or already in `graph` and edited) the
// references `references` keeps the graph free of cycles:
//   - a reference to an id that is neither in `graph` nor `segment_id` itself:
//     INVALID_ARGUMENT / SEGMENT_INVALID, field "expression", naming the id;
//   - a cycle through `segment_id`: FAILED_PRECONDITION / SEGMENT_CYCLE (the
//     expression is fine; the other segments' current references forbid it),
//     the message naming the path, e.g. "a -> b -> c -> a". Deterministic:
//     the first cycle in the order of the ids.
// The search is iterative (no recursion) and visits each segment once, so a
// graph of any size or depth is fine. Cycles elsewhere in `graph` that do not
// pass through `segment_id` are not this call's to report.
[[nodiscard]] absl::Status CheckSegmentReferences(const SegmentGraph& graph,
                                                  absl::string_view segment_id,
                                                  const std::set<std::string>& references);

}  // namespace crm::segmentation::domain
