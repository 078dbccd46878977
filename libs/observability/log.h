#pragma once
// JSON-lines logging to stderr: one object per line with timestamp, severity,
// service, message and any fields added with .Field(); see FlushLogs for
// when a line reaches stderr. No PII goes in here:
// callers log ids, never emails, phones or names.
#include <cstdint>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace crm::observability {

enum class Severity { kDebug, kInfo, kWarning, kError };

// Sets the service name written on every line and routes gRPC core logs here.
void InitLogging(std::string_view service);

// Info and debug lines are buffered and written in batches (at least every
// 100 ms, and at exit); warnings and errors are written at once, after what
// was buffered. Writes the buffered lines now (e.g. before _exit or abort).
void FlushLogs();

// Escapes a string for a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view s);

class LogLine {
 public:
  explicit LogLine(Severity s) : severity_(s) {}
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Field(std::string_view key, std::string_view value);
  LogLine& Field(std::string_view key, const char* value) {
    return Field(key, std::string_view(value));
  }
  LogLine& Field(std::string_view key, const std::string& value) {
    return Field(key, std::string_view(value));
  }
  LogLine& Field(std::string_view key, int64_t value);
  LogLine& Field(std::string_view key, int value) { return Field(key, int64_t{value}); }
  LogLine& Field(std::string_view key, double value);

  template <typename T>
  LogLine& operator<<(const T& v) {
    message_ << v;
    return *this;
  }
  LogLine& operator<<(const absl::Status& s) {
    message_ << s.ToString();
    return *this;
  }

 private:
  Severity severity_;
  std::ostringstream message_;
  std::string fields_;  // already-encoded ,"k":v pairs
};

}  // namespace crm::observability

#define CRM_LOG(sev) ::crm::observability::LogLine(::crm::observability::Severity::k##sev)
#define CRM_LOG_INFO CRM_LOG(Info)

namespace crm::observability {
// What may be logged of an unexpected exception: its type only. Messages of
// parsers quote their input, which can hold personal data.
std::string ExceptionSummary(const std::exception& e);
}  // namespace crm::observability
