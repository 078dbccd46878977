#include "libs/redis/redis.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/observability/log.h"
#include "libs/observability/metrics.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace crm::redis {
namespace {

const char* TypeName(const redisReply* r) {
  if (r == nullptr) return "none";
  switch (r->type) {
    case REDIS_REPLY_STRING:
      return "string";
    case REDIS_REPLY_ARRAY:
      return "array";
    case REDIS_REPLY_INTEGER:
      return "integer";
    case REDIS_REPLY_NIL:
      return "nil";
    case REDIS_REPLY_STATUS:
      return "status";
    case REDIS_REPLY_ERROR:
      return "error";
    default:
      return "unknown";
  }
}

// Maps an error reply ("WRONGTYPE Operation against ...") to a status. The
// message carries the error's first word; the rest of the server text is kept
// only where the header promises it (FAILED_PRECONDITION). Values never
// appear in Redis error texts.
absl::Status ErrorReplyStatus(const redisReply* r) {
  const std::string text = (r->str != nullptr) ? std::string(r->str, r->len) : std::string();
  const std::string word = text.substr(0, text.find(' '));
  if (word == "LOADING" || word == "BUSY" || word == "MASTERDOWN" || word == "TRYAGAIN" ||
      word == "CLUSTERDOWN") {
    return absl::UnavailableError(absl::StrCat("redis: ", word));
  }
  if (word == "NOGROUP" || word == "BUSYGROUP" || word == "NOSCRIPT" || word == "EXECABORT" ||
      word == "READONLY" || word == "NOPROTO") {
    return absl::FailedPreconditionError(absl::StrCat("redis: ", text));
  }
  return absl::InternalError(absl::StrCat("redis: ", word.empty() ? "ERR" : word));
}

absl::Status WrongType(const redisReply* r, const char* want) {
  if (r != nullptr && r->type == REDIS_REPLY_ERROR) return ErrorReplyStatus(r);
  return absl::InternalError(
      absl::StrCat("redis: expected ", want, " reply, got ", TypeName(r)));
}

// hiredis writes with plain write(2): a peer that closed the socket would
// raise SIGPIPE and kill the process. Block it on this thread for the
// duration of the I/O and swallow one that we caused (the approach libpq
// uses when MSG_NOSIGNAL is unavailable), without touching process-wide
// signal dispositions. That costs four system calls per command, so it is
// skipped (`needed` false) in a process that ignores SIGPIPE: every service
// does (common::BlockShutdownSignals, before its pools are created).
class ScopedSigpipeBlock final {
 public:
  explicit ScopedSigpipeBlock(bool needed) {
    if (!needed) return;
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
    sigset_t pending;
    sigemptyset(&pending);
    if (blocked_ && sigpending(&pending) == 0) was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~ScopedSigpipeBlock() {
    if (!blocked_) return;
    const int saved_errno = errno;
    sigset_t pending;
    sigemptyset(&pending);
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved_errno;
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool blocked_ = false;
  bool was_pending_ = false;
};

struct Argv {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
};

absl::StatusOr<Argv> BuildArgv(const std::vector<std::string_view>& argv) {
  if (argv.empty() || argv[0].empty()) return absl::InvalidArgumentError("redis: empty command");
  Argv out;
  out.ptrs.reserve(argv.size());
  out.lens.reserve(argv.size());
  for (std::string_view a : argv) {
    // hiredis reads len bytes, so a non-null pointer is all it needs for "".
    out.ptrs.push_back(a.data() != nullptr ? a.data() : "");
    out.lens.push_back(a.size());
  }
  return out;
}

std::string CommandLabel(std::string_view name) { return absl::AsciiStrToUpper(std::string(name)); }

}  // namespace

// ------------------------------------------------------------------- Reply

Reply::~Reply() {
  if (owned_ && r_ != nullptr) freeReplyObject(r_);
}

Reply& Reply::operator=(Reply&& o) noexcept {
  if (this != &o) {
    if (owned_ && r_ != nullptr) freeReplyObject(r_);
    r_ = o.r_;
    owned_ = o.owned_;
    o.r_ = nullptr;
  }
  return *this;
}

bool Reply::is_nil() const { return r_ == nullptr || r_->type == REDIS_REPLY_NIL; }

bool Reply::is_error() const { return r_ != nullptr && r_->type == REDIS_REPLY_ERROR; }

absl::StatusOr<std::string> Reply::String() const {
  if (r_ == nullptr || (r_->type != REDIS_REPLY_STRING && r_->type != REDIS_REPLY_STATUS)) {
    return WrongType(r_, "string");
  }
  if (r_->str == nullptr) return std::string();
  return std::string(r_->str, r_->len);
}

absl::StatusOr<int64_t> Reply::Integer() const {
  if (r_ == nullptr || r_->type != REDIS_REPLY_INTEGER) return WrongType(r_, "integer");
  return static_cast<int64_t>(r_->integer);
}

absl::StatusOr<size_t> Reply::ArraySize() const {
  if (r_ != nullptr && r_->type == REDIS_REPLY_NIL) return size_t{0};
  if (r_ == nullptr || r_->type != REDIS_REPLY_ARRAY) return WrongType(r_, "array");
  return r_->elements;
}

absl::StatusOr<Reply> Reply::Element(size_t i) const {
  if (r_ == nullptr || r_->type != REDIS_REPLY_ARRAY) return WrongType(r_, "array");
  if (i >= r_->elements || r_->element == nullptr || r_->element[i] == nullptr) {
    return absl::OutOfRangeError(
        absl::StrCat("redis: element ", i, " of array of size ", r_->elements));
  }
  Reply view(r_->element[i]);
  view.owned_ = false;  // the parent reply owns it
  return view;
}

std::string Reply::DebugType() const { return TypeName(r_); }

// ----------------------------------------------------------------- options

absl::StatusOr<PoolOptions> ParseAddress(std::string_view addr) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError("redis address must be host:port");
  }
  std::string_view host = addr.substr(0, colon);
  std::string_view port_text = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:6379
  }
  if (host.empty()) return absl::InvalidArgumentError("redis address has an empty host");
  if (host.find_first_of(" \t/[]") != std::string_view::npos) {
    return absl::InvalidArgumentError("redis address has an invalid host");
  }
  int port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port < 1 || port > 65535) {
    return absl::InvalidArgumentError("redis address has an invalid port");
  }
  PoolOptions o;
  o.host = std::string(host);
  o.port = port;
  return o;
}

// -------------------------------------------------------------------- Pool

class Pool::Metrics {
 public:
  explicit Metrics(prometheus::Registry& registry)
      : family_(prometheus::BuildHistogram()
                    .Name("crm_redis_command_seconds")
                    .Help("Latency of Redis commands (pipelines labelled PIPELINE)")
                    .Register(registry)) {}
  void Observe(const std::string& command, absl::Duration d) {
    family_.Add({{"command", command}}, observability::Metrics::LatencyBuckets())
        .Observe(absl::ToDoubleSeconds(d));
  }

 private:
  prometheus::Family<prometheus::Histogram>& family_;
};

struct Pool::Conn {
  redisContext* ctx = nullptr;
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    if (ctx != nullptr) redisFree(ctx);
  }
};

// Whether SIGPIPE is ignored process-wide now (no write can raise it).
bool SigpipeIgnored() {
  struct sigaction current {};
  return sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

Pool::Pool(PoolOptions o) : options_(std::move(o)), guard_sigpipe_(!SigpipeIgnored()) {
  if (options_.metrics != nullptr) metrics_ = std::make_unique<Metrics>(*options_.metrics);
}

Pool::~Pool() = default;

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  if (options.host.empty()) return absl::InvalidArgumentError("redis host is empty");
  if (options.port < 1 || options.port > 65535) {
    return absl::InvalidArgumentError("redis port out of range");
  }
  if (options.size <= 0) return absl::InvalidArgumentError("redis pool size must be positive");
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.command_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("redis timeouts must be positive");
  }
  return std::unique_ptr<Pool>(new Pool(std::move(options)));
}

absl::StatusOr<std::unique_ptr<Pool::Conn>> Pool::Acquire() {
  // Waiting for a free connection is bounded by the command timeout.
  const absl::Time deadline = absl::Now() + options_.command_timeout;
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.size;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
      return absl::ResourceExhaustedError("redis pool exhausted");
    }
    if (!idle_.empty()) {
      std::unique_ptr<Conn> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;  // reserve the slot; connect outside the lock
  }
  auto c = std::make_unique<Conn>();
  c->ctx = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                   absl::ToTimeval(options_.connect_timeout));
  absl::Status failure;
  if (c->ctx == nullptr) {
    failure = absl::UnavailableError("redis unavailable");
    CRM_LOG(Warning).Field("component", "redis") << "cannot allocate redis context";
  } else if (c->ctx->err != 0) {
    failure = absl::UnavailableError("redis unavailable");
    CRM_LOG(Warning).Field("component", "redis").Field("host", options_.host)
            .Field("port", options_.port)
        << "redis connect failed: " << c->ctx->errstr;
  } else if (redisSetTimeout(c->ctx, absl::ToTimeval(options_.command_timeout)) != REDIS_OK) {
    failure = absl::UnavailableError("redis unavailable");
    CRM_LOG(Warning).Field("component", "redis") << "redisSetTimeout failed: " << c->ctx->errstr;
  } else {
    // Best effort: keepalive only speeds up detection of dead peers.
    if (redisEnableKeepAlive(c->ctx) != REDIS_OK) {
      CRM_LOG(Debug).Field("component", "redis") << "keepalive not enabled";
    }
    return c;
  }
  c.reset();
  absl::MutexLock lock(&mu_);
  --open_;
  return failure;
}

void Pool::Release(std::unique_ptr<Conn> c, bool broken) {
  const bool healthy = !broken && c != nullptr && c->ctx != nullptr && c->ctx->err == 0;
  if (!healthy) c.reset();  // close outside the lock
  absl::MutexLock lock(&mu_);
  if (healthy) {
    idle_.push_back(std::move(c));
  } else {
    --open_;  // reconnected lazily by the next Acquire
  }
}

absl::StatusOr<Reply> Pool::Command(const std::vector<std::string_view>& argv) {
  CRM_ASSIGN_OR_RETURN(Argv args, BuildArgv(argv));
  const absl::Time start = absl::Now();
  CRM_ASSIGN_OR_RETURN(std::unique_ptr<Conn> c, Acquire());
  void* raw = nullptr;
  {
    ScopedSigpipeBlock no_sigpipe(guard_sigpipe_);
    raw = redisCommandArgv(c->ctx, static_cast<int>(args.ptrs.size()), args.ptrs.data(),
                           args.lens.data());
  }
  if (raw == nullptr) {
    CRM_LOG(Warning).Field("component", "redis").Field("command", CommandLabel(argv[0]))
        << "redis I/O error: " << c->ctx->errstr;
    Release(std::move(c), /*broken=*/true);
    return absl::UnavailableError("redis unavailable");
  }
  Reply reply(static_cast<redisReply*>(raw));
  Release(std::move(c), /*broken=*/false);
  if (metrics_ != nullptr) metrics_->Observe(CommandLabel(argv[0]), absl::Now() - start);
  if (reply.is_error()) return ErrorReplyStatus(static_cast<redisReply*>(raw));
  return reply;
}

absl::StatusOr<std::vector<Reply>> Pool::Pipeline(
    const std::vector<std::vector<std::string_view>>& commands) {
  std::vector<Reply> replies;
  if (commands.empty()) return replies;
  std::vector<Argv> built;
  built.reserve(commands.size());
  for (const auto& cmd : commands) {
    CRM_ASSIGN_OR_RETURN(Argv a, BuildArgv(cmd));
    built.push_back(std::move(a));
  }
  const absl::Time start = absl::Now();
  CRM_ASSIGN_OR_RETURN(std::unique_ptr<Conn> c, Acquire());
  for (Argv& a : built) {
    if (redisAppendCommandArgv(c->ctx, static_cast<int>(a.ptrs.size()), a.ptrs.data(),
                               a.lens.data()) != REDIS_OK) {
      CRM_LOG(Warning).Field("component", "redis") << "redis append failed: " << c->ctx->errstr;
      Release(std::move(c), /*broken=*/true);
      return absl::UnavailableError("redis unavailable");
    }
  }
  replies.reserve(commands.size());
  {
    ScopedSigpipeBlock no_sigpipe(guard_sigpipe_);
    for (size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c->ctx, &raw) != REDIS_OK || raw == nullptr) {
        CRM_LOG(Warning).Field("component", "redis").Field("pipeline_index", static_cast<int64_t>(i))
            << "redis I/O error in pipeline: " << c->ctx->errstr;
        if (raw != nullptr) freeReplyObject(raw);
        Release(std::move(c), /*broken=*/true);
        return absl::UnavailableError("redis unavailable");
      }
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
  }
  Release(std::move(c), /*broken=*/false);
  if (metrics_ != nullptr) metrics_->Observe("PIPELINE", absl::Now() - start);
  return replies;
}

absl::Status Pool::Ping() {
  CRM_ASSIGN_OR_RETURN(Reply r, Command({"PING"}));
  CRM_ASSIGN_OR_RETURN(std::string pong, r.String());
  if (pong != "PONG") return absl::InternalError("redis: unexpected PING reply");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Pool::Get(std::string_view key) {
  CRM_ASSIGN_OR_RETURN(Reply r, Command({"GET", key}));
  if (r.is_nil()) return std::optional<std::string>();
  CRM_ASSIGN_OR_RETURN(std::string value, r.String());
  return std::optional<std::string>(std::move(value));
}

absl::Status Pool::SetEx(std::string_view key, std::string_view value, absl::Duration ttl) {
  const int64_t ms = absl::ToInt64Milliseconds(ttl);
  if (ms <= 0) return absl::InvalidArgumentError("redis: ttl must be at least 1ms");
  const std::string ms_text = absl::StrCat(ms);
  CRM_ASSIGN_OR_RETURN(Reply r, Command({"SET", key, value, "PX", ms_text}));
  CRM_ASSIGN_OR_RETURN(std::string ok, r.String());
  if (ok != "OK") return absl::InternalError("redis: unexpected SET reply");
  return absl::OkStatus();
}

absl::Status Pool::Del(const std::vector<std::string>& keys) {
  if (keys.empty()) return absl::OkStatus();
  std::vector<std::string_view> argv;
  argv.reserve(keys.size() + 1);
  argv.push_back("DEL");
  for (const std::string& k : keys) argv.push_back(k);
  CRM_ASSIGN_OR_RETURN(Reply r, Command(argv));
  return r.Integer().status();
}

}  // namespace crm::redis
