#include "libs/common/env.h"

#include <cstdlib>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace crm::common {
namespace {
const char* Get(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}
}  // namespace

absl::StatusOr<std::string> EnvString(const char* name, std::string def) {
  const char* v = Get(name);
  return v ? std::string(v) : def;
}

absl::StatusOr<std::string> EnvRequired(const char* name) {
  const char* v = Get(name);
  if (!v) return absl::InvalidArgumentError(absl::StrCat(name, " is required but not set"));
  return std::string(v);
}

absl::StatusOr<int64_t> EnvInt(const char* name, int64_t def, int64_t min, int64_t max) {
  const char* v = Get(name);
  if (!v) return def;
  int64_t out;
  if (!absl::SimpleAtoi(v, &out) || out < min || out > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be an integer in [", min, ", ", max, "], got '", v, "'"));
  }
  return out;
}

absl::StatusOr<absl::Duration> EnvDuration(const char* name, absl::Duration def) {
  const char* v = Get(name);
  if (!v) return def;
  absl::Duration d;
  if (!absl::ParseDuration(v, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be a duration such as 500ms or 30s, got '", v, "'"));
  }
  return d;
}

absl::StatusOr<bool> EnvBool(const char* name, bool def) {
  const char* v = Get(name);
  if (!v) return def;
  std::string s = absl::AsciiStrToLower(v);
  if (s == "1" || s == "true" || s == "yes") return true;
  if (s == "0" || s == "false" || s == "no") return false;
  return absl::InvalidArgumentError(absl::StrCat(name, " must be true or false, got '", v, "'"));
}

ConfigDump& ConfigDump::Add(std::string name, std::string value) {
  items_.emplace_back(std::move(name), std::move(value));
  return *this;
}
ConfigDump& ConfigDump::Add(std::string name, int64_t value) {
  return Add(std::move(name), absl::StrCat(value));
}
ConfigDump& ConfigDump::Add(std::string name, absl::Duration value) {
  return Add(std::move(name), absl::FormatDuration(value));
}
ConfigDump& ConfigDump::AddSecret(std::string name, const std::string& value) {
  return Add(std::move(name), value.empty() ? std::string() : RedactDsn(value));
}

std::string ConfigDump::ToString() const {
  return absl::StrJoin(items_, " ", [](std::string* out, const auto& kv) {
    absl::StrAppend(out, kv.first, "=", kv.second);
  });
}

std::string RedactDsn(const std::string& dsn) {
  static const std::regex kUrl(R"(^([a-z]+://[^:/@]*:)[^@]*@)");
  static const std::regex kQuery(R"(([?&]password=)[^&]*)");
  static const std::regex kKv(R"((password\s*=\s*)('[^']*'|\S+))");
  if (dsn.find("://") != std::string::npos) {
    // user:password@host and ?password=... (libpq accepts both).
    return std::regex_replace(std::regex_replace(dsn, kUrl, "$1***@"), kQuery, "$1***");
  }
  if (dsn.find('=') == std::string::npos) return "***";
  return std::regex_replace(dsn, kKv, "$1***");
}

}  // namespace crm::common
