#include "services/service_desk/domain/template.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/text.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {
namespace {

// Which of `names` has its "{{name}}" starting at `at` (its index, and
// the placeholder's length in `length`); npos for none.
size_t PlaceholderAt(absl::string_view text, size_t at, const std::vector<absl::string_view>& names,
                     size_t* length) {
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string placeholder = absl::StrCat("{{", names[i], "}}");
    if (absl::StartsWith(text.substr(at), placeholder)) {
      *length = placeholder.size();
      return i;
    }
  }
  return absl::string_view::npos;
}

}  // namespace

absl::Status CheckTemplate(absl::string_view field, absl::string_view text,
                           const std::vector<absl::string_view>& names, size_t max_chars,
                           bool single_line) {
  const std::string named(field);
  if (CharCount(std::string(text)) > max_chars) {
    return common::InvalidField(named,
                                absl::StrCat(field, " is at most ", max_chars, " characters"));
  }
  if (absl::Status s = common::CheckStorableText(named, text); !s.ok()) return s;
  if (single_line && (absl::StrContains(text, "\n") || absl::StrContains(text, "\r"))) {
    return common::InvalidField(named, absl::StrCat(field, " must be one line"));
  }
  for (size_t at = text.find("{{"); at != absl::string_view::npos;) {
    size_t length = 0;
    if (PlaceholderAt(text, at, names, &length) == absl::string_view::npos) {
      std::string listed;
      for (size_t i = 0; i < names.size(); ++i) {
        absl::StrAppend(&listed, i == 0 ? "" : (i + 1 == names.size() ? " and " : ", "), "{{",
                        names[i], "}}");
      }
      return common::InvalidField(named, absl::StrCat(field, " may use only the fields ", listed,
                                                      "; found \"", text.substr(at, 40), "\""));
    }
    at = text.find("{{", at + length);
  }
  return absl::OkStatus();
}

std::string FillTemplate(absl::string_view text, const TemplateValues& values) {
  std::vector<absl::string_view> names;
  for (const auto& v : values) names.push_back(v.first);
  std::string out;
  size_t from = 0;
  for (size_t at = text.find("{{"); at != absl::string_view::npos; at = text.find("{{", from)) {
    size_t length = 0;
    const size_t found = PlaceholderAt(text, at, names, &length);
    if (found == absl::string_view::npos) {
      absl::StrAppend(&out, text.substr(from, at + 2 - from));
      from = at + 2;
      continue;
    }
    absl::StrAppend(&out, text.substr(from, at - from), values[found].second);
    from = at + length;
  }
  absl::StrAppend(&out, text.substr(from));
  return out;
}

}  // namespace crm::service_desk::domain
