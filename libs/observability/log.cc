#include "libs/observability/log.h"

#include <grpc/support/log.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
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

namespace {
// Info and debug lines (the access log: one per call) are collected here and
// written by a flusher thread every kFlushEvery, or at once when kMaxBuffered
// is reached: one write(2) per batch instead of one per call. A warning or an
// error first writes what is buffered, then itself, so the file keeps the
// order of the lines; FlushLogs() (also run at exit) writes the rest.
constexpr absl::Duration kFlushEvery = absl::Milliseconds(100);
constexpr size_t kMaxBuffered = 64 * 1024;

void WriteAll(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // stderr is gone: nothing else to do with a log line
    }
    done += static_cast<size_t>(n);
  }
}

class LogBuffer final {
 public:
  static LogBuffer& Get() {
    static LogBuffer* buffer = new LogBuffer();  // never destroyed: used until exit
    return *buffer;
  }

  void Append(const std::string& line) {
    bool full = false;
    {
      absl::MutexLock lock(&mu_);
      if (!started_) {
        started_ = true;
        std::thread([this] { Loop(); }).detach();
        std::atexit([] { LogBuffer::Get().Flush(); });
      }
      pending_ += line;
      full = pending_.size() >= kMaxBuffered;
    }
    if (full) Flush();
  }

  // Writes what is buffered, then `line` (may be empty), in that order.
  void Flush(const std::string& line = std::string()) {
    absl::MutexLock write_lock(&write_mu_);
    std::string out;
    {
      absl::MutexLock lock(&mu_);
      out.swap(pending_);
    }
    out += line;
    if (!out.empty()) WriteAll(out);
  }

 private:
  LogBuffer() = default;
  void Loop() {
    for (;;) {
      absl::SleepFor(kFlushEvery);
      Flush();
    }
  }

  absl::Mutex write_mu_;  // one writer at a time, so batches keep their order
  absl::Mutex mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
};
}  // namespace

void FlushLogs() { LogBuffer::Get().Flush(); }

LogLine::~LogLine() {
  std::string line = absl::StrCat(
      "{\"timestamp\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()),
      "\",\"severity\":\"", SeverityName(severity_), "\",\"service\":\"",
      JsonEscape(ServiceName()), "\",\"message\":\"", JsonEscape(message_.str()), "\"", fields_,
      "}\n");
  // Whole lines only, so lines from concurrent threads never interleave.
  if (severity_ == Severity::kInfo || severity_ == Severity::kDebug) {
    LogBuffer::Get().Append(line);
  } else {
    LogBuffer::Get().Flush(line);
  }
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
