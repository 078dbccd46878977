#include "services/segmentation/domain/segment_def.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "services/segmentation/domain/segment_parser.h"

namespace crm::segmentation::domain {
namespace {

// Code points of valid UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF: what PostgreSQL stores), or -1.
long Utf8Length(const std::string& s) {
  if (FirstInvalidUtf8(s) >= 0) return -1;
  long n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

absl::Status CheckText(const std::string& field, const std::string& value, long min, long max) {
  const long n = Utf8Length(value);
  if (n < 0) return common::InvalidField(field, "must be valid UTF-8");
  if (n < min || n > max) {
    return common::InvalidField(
        field, min > 0 ? absl::StrCat("must be ", min, " to ", max, " characters")
                       : absl::StrCat("must be at most ", max, " characters"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EtagOf(const SegmentDefinition& s) { return absl::StrCat(s.revision); }

absl::Status CheckSegmentId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 63 && id[0] >= 'a' && id[0] <= 'z';
  for (char c : id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return common::InvalidField("segment.segment_id",
                              "must be 1 to 63 of a-z, 0-9, '_' and '-', starting with a letter "
                              "(in_segment(\"<id>\") names it)");
}

absl::Status CheckDefinition(const SegmentDefinition& s) {
  if (absl::Status st = CheckSegmentId(s.id); !st.ok()) return st;
  if (absl::Status st = CheckText("segment.display_name", s.display_name, 1, 200); !st.ok()) {
    return st;
  }
  return CheckText("segment.description", s.description, 0, 2000);
}

bool ApplyPatch(SegmentDefinition& current, const SegmentPatch& patch, absl::Time now) {
  bool changed = false;
  bool expression_changed = false;
  if (patch.display_name && *patch.display_name != current.display_name) {
    current.display_name = *patch.display_name;
    changed = true;
  }
  if (patch.description && *patch.description != current.description) {
    current.description = *patch.description;
    changed = true;
  }
  if (patch.expression && *patch.expression != current.expression) {
    current.expression = *patch.expression;
    changed = expression_changed = true;
    ++current.version;
  }
  if (changed) {
    ++current.revision;
    current.update_time = now;
  }
  return expression_changed;
}

absl::Status CheckDeletable(const std::string& id, const std::vector<std::string>& referrers) {
  if (referrers.empty()) return absl::OkStatus();
  return common::WithReason(
      absl::FailedPreconditionError(absl::StrCat("segment \"", id, "\" is read by in_segment() of ",
                                                 absl::StrJoin(referrers, ", "),
                                                 ": edit or delete those first")),
      "SEGMENT_IN_USE");
}

}  // namespace crm::segmentation::domain
