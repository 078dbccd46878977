#pragma once
// References between segments (in_segment("id")) must form no cycle: a segment
// that depends on itself, directly or through others, has no defined
// membership. Checked when a segment is created or its expression edited.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

// The segments of `graph` in an order where every segment comes after the
// segments it references (so a customer's memberships can be evaluated in one
// pass, each in_segment() reading an already updated membership); ties in
// id order. References to ids absent from `graph` are ignored. A cycle
// (which CheckSegmentReferences keeps out) is FAILED_PRECONDITION /
// SEGMENT_CYCLE naming the segments that cannot be ordered: those on a cycle
// and those that reference one, directly or not.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> SegmentEvaluationOrder(
    const SegmentGraph& graph);

}  // namespace crm::segmentation::domain
