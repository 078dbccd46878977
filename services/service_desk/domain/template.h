#pragma once
// Text templates with {{name}} fields from a fixed set and no logic: the
// auto-replies' (domain/outbound_mail.h) and the macros' (domain/macro.h).
// Pure.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::service_desk::domain {

// INVALID_ARGUMENT naming `field` for a "{{" that opens none of `names`
// (the message lists them), text that cannot be stored (a NUL, bad
// UTF-8), more than `max_chars` characters, or (single_line) a line break.
absl::Status CheckTemplate(absl::string_view field, absl::string_view text,
                           const std::vector<absl::string_view>& names, size_t max_chars,
                           bool single_line);

// Each "{{name}}" of `values` replaced by its value; anything else as is.
using TemplateValues = std::vector<std::pair<absl::string_view, std::string>>;
std::string FillTemplate(absl::string_view text, const TemplateValues& values);

}  // namespace crm::service_desk::domain
