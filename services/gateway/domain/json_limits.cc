#include "services/gateway/domain/json_limits.h"

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"

namespace crm::gateway::domain {

absl::Status CheckJsonDepth(absl::string_view json, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character (\" or \\) cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (++depth > max_depth) {
          return common::WithReason(
              absl::InvalidArgumentError(absl::StrCat(
                  "request body nests objects/arrays deeper than ", max_depth,
                  " levels (at byte ", i, ")")),
              "MALFORMED_BODY");
        }
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;  // unbalanced text: the parser reports it
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace crm::gateway::domain
