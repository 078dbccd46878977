#include "libs/observability/log.h"

#include <grpc/support/log.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm::observability {
namespace {
std::string& ServiceName() {
  static std::string name = "crm";
  return name;
}

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kDebug:
      return "DEBUG";
    case Severity::kInfo:
      return "INFO";
    case Severity::kWarning:
      return "WARNING";
    case Severity::kError:
      return "ERROR";
  }
  return "INFO";
}

void GrpcLogSink(gpr_log_func_args* args) {
  Severity s = args->severity == GPR_LOG_SEVERITY_ERROR   ? Severity::kError
               : args->severity == GPR_LOG_SEVERITY_DEBUG ? Severity::kDebug
                                                          : Severity::kInfo;
  LogLine(s).Field("component", "grpc") << args->message;
}
}  // namespace

void InitLogging(std::string_view service) {
  ServiceName() = std::string(service);
  gpr_set_log_function(GrpcLogSink);
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

LogLine& LogLine::Field(std::string_view key, std::string_view value) {
  absl::StrAppend(&fields_, ",\"", JsonEscape(key), "\":\"", JsonEscape(value), "\"");
  return *this;
}
LogLine& LogLine::Field(std::string_view key, int64_t value) {
  absl::StrAppend(&fields_, ",\"", JsonEscape(key), "\":", value);
  return *this;
}
LogLine& LogLine::Field(std::string_view key, double value) {
  absl::StrAppend(&fields_, ",\"", JsonEscape(key), "\":", absl::StrFormat("%.3f", value));
  return *this;
}

LogLine::~LogLine() {
  std::string line = absl::StrCat(
      "{\"timestamp\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()),
      "\",\"severity\":\"", SeverityName(severity_), "\",\"service\":\"",
      JsonEscape(ServiceName()), "\",\"message\":\"", JsonEscape(message_.str()), "\"", fields_,
      "}\n");
  // One write per line so lines from concurrent threads never interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace crm::observability

#include <cxxabi.h>

#include <cstdlib>
#include <typeinfo>

namespace crm::observability {

std::string ExceptionSummary(const std::exception& e) {
  const char* mangled = typeid(e).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  return absl::StrCat("exception of type ", out, " (message withheld: it may quote input)");
}

}  // namespace crm::observability
