#pragma once
// A saved segment's definition and the rules of its writes (create, edit,
// delete), apart from the expression's own checks (segment_check.h,
// segment_graph.h).
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::segmentation::domain {

struct SegmentDefinition {
  std::string id;  // [a-z][a-z0-9_-]{0,62}
  std::string display_name;
  std::string description;
  std::string expression;
  int64_t version = 1;   // +1 per changed expression
  int64_t revision = 1;  // +1 per change of any kind: the etag
  std::set<std::string> references;  // in_segment() ids, from the checked expression
  bool reads_time = false;
  absl::Time create_time;
  absl::Time update_time;
};

std::string EtagOf(const SegmentDefinition& s);

// INVALID_ARGUMENT (INVALID_FIELD segment.segment_id).
absl::Status CheckSegmentId(const std::string& id);
// The id, display_name (1..200 characters, valid UTF-8) and description (up
// to 2,000): INVALID_ARGUMENT (INVALID_FIELD segment.<field>).
absl::Status CheckDefinition(const SegmentDefinition& s);

// An edit: the fields to change (nullopt: keep).
struct SegmentPatch {
  std::optional<std::string> display_name;
  std::optional<std::string> description;
  std::optional<std::string> expression;
};

// Applies `patch` to `current` (after the etag check): a changed expression
// makes a new version; any change a new revision and update_time. Returns
// whether the expression changed. The caller checks the new expression.
bool ApplyPatch(SegmentDefinition& current, const SegmentPatch& patch, absl::Time now);

// FAILED_PRECONDITION (SEGMENT_IN_USE) when `referrers` (other segments
// whose in_segment() reads `id`) is not empty, naming them.
absl::Status CheckDeletable(const std::string& id, const std::vector<std::string>& referrers);

}  // namespace crm::segmentation::domain
