#pragma once
// Redis over hiredis 0.14: RAII replies and connections, a fixed-size pool
// that reconnects, and reply accessors that never trust a reply's shape (a
// wrong type is an INTERNAL status, never a crash).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct redisReply;
struct redisContext;

namespace prometheus {
class Registry;
}

namespace crm::redis {

class Reply final {
 public:
  Reply() = default;
  explicit Reply(redisReply* r) : r_(r) {}
  ~Reply();
  Reply(Reply&& o) noexcept : r_(o.r_), owned_(o.owned_) { o.r_ = nullptr; }
  Reply& operator=(Reply&& o) noexcept;
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  bool is_nil() const;
  bool is_error() const;
  // Each accessor checks the type first.
  absl::StatusOr<std::string> String() const;   // STRING or STATUS
  absl::StatusOr<int64_t> Integer() const;      // INTEGER
  absl::StatusOr<size_t> ArraySize() const;     // ARRAY (nil array -> 0)
  absl::StatusOr<Reply> Element(size_t i) const;  // borrowed view of element i
  std::string DebugType() const;

 private:
  redisReply* r_ = nullptr;
  bool owned_ = true;
};

struct PoolOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int size = 8;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Seconds(1);
  prometheus::Registry* metrics = nullptr;  // optional: crm_redis_command_seconds{command}
};

// "host:port" -> options (validated).
absl::StatusOr<PoolOptions> ParseAddress(std::string_view addr);

class Pool final {
 public:
  // Does not require Redis to be up: connections are opened lazily.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(PoolOptions options);
  ~Pool();

  // One command; argv[0] is the command name. Server error replies become
  // status codes (UNAVAILABLE for LOADING/BUSY, FAILED_PRECONDITION for
  // NOGROUP/BUSYGROUP-like replies carry the message, INTERNAL otherwise).
  // I/O errors -> UNAVAILABLE and the connection is dropped.
  absl::StatusOr<Reply> Command(const std::vector<std::string_view>& argv);
  // Several commands pipelined on one connection; replies in order. A server
  // error for one command stays in its slot (check Reply::is_error(); its
  // accessors return the mapped status); I/O errors fail the whole call.
  absl::StatusOr<std::vector<Reply>> Pipeline(
      const std::vector<std::vector<std::string_view>>& commands);
  absl::Status Ping();

  // Cache helpers.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key);
  absl::Status SetEx(std::string_view key, std::string_view value, absl::Duration ttl);
  absl::Status Del(const std::vector<std::string>& keys);

 private:
  struct Conn;
  explicit Pool(PoolOptions o);
  absl::StatusOr<std::unique_ptr<Conn>> Acquire();
  void Release(std::unique_ptr<Conn> c, bool broken);

  PoolOptions options_;
  // SIGPIPE was not ignored when the pool was created: block it around I/O.
  const bool guard_sigpipe_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  class Metrics;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace crm::redis
