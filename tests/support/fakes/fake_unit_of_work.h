#pragma once
// The unit of work in memory, for the fakes of the repositories whose writes
// the app layer drives through a port (libs/outbox/write_port.h). It keeps
// the PostgreSQL writer's key discipline (libs/outbox/writer.cc): per
// tenant, a key answers the first call's answer, or its deterministic
// refusal (outbox::IsReplayableRefusal), and writes nothing; another method
// is INVALID_FIELD request_id, another body IDEMPOTENCY_KEY_REUSED. A write
// runs on a copy of the fake's state and the copy replaces the state only
// when the write succeeds, so a refusal leaves nothing behind, as a rolled
// back transaction does.
#include <any>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/outbox/write_port.h"

namespace crm::testing {

template <typename State>
class FakeUnitOfWork {
 public:
  // Runs `work` on a copy of the state, under the key rules of `meta`.
  template <typename T>
  absl::StatusOr<T> Write(const outbox::WriteMeta& meta,
                          absl::FunctionRef<absl::StatusOr<T>(State&)> work) {
    absl::MutexLock lock(&mu_);
    const std::string key = meta.tenant_id + "\n" + meta.idempotency_key;
    if (!meta.idempotency_key.empty()) {
      auto it = answers_.find(key);
      if (it != answers_.end()) {
        const Answer& first = it->second;
        if (first.method != meta.method) return outbox::KeyUsedForAnotherCall();
        if (!first.fingerprint.empty() && first.fingerprint != meta.fingerprint) {
          return outbox::KeyReusedWithAnotherBody();
        }
        if (!first.refusal.ok()) return first.refusal;
        return std::any_cast<T>(first.value);
      }
    }
    State copy = state_;
    absl::StatusOr<T> out = work(copy);
    if (out.ok()) {
      state_ = std::move(copy);
      ++writes_;
      if (!meta.idempotency_key.empty()) {
        answers_[key] = Answer{meta.method, meta.fingerprint, absl::OkStatus(), *out};
      }
    } else if (outbox::IsReplayableRefusal(meta, out.status())) {
      answers_[key] = Answer{meta.method, meta.fingerprint, out.status(), {}};
    }
    return out;
  }

  // What a write of `meta` would answer from its key without running:
  // nullopt when the key is unused (or there is none), else the first
  // call's answer or refusal, or the key's own refusal.
  template <typename T>
  std::optional<absl::StatusOr<T>> Peek(const outbox::WriteMeta& meta) const {
    absl::StatusOr<std::optional<T>> first = PeekAnswer<T>(meta);
    if (!first.ok()) return absl::StatusOr<T>(first.status());
    if (!first->has_value()) return std::nullopt;
    return absl::StatusOr<T>(**std::move(first));
  }

  // Peek in another shape: nullopt when the key is unused (or its answer is
  // not a T); the stored refusal, or the key's misuse (another method or
  // body), as an error.
  template <typename T>
  absl::StatusOr<std::optional<T>> PeekAnswer(const outbox::WriteMeta& meta) const {
    absl::MutexLock lock(&mu_);
    if (meta.idempotency_key.empty()) return std::optional<T>();
    auto it = answers_.find(meta.tenant_id + "\n" + meta.idempotency_key);
    if (it == answers_.end()) return std::optional<T>();
    const Answer& first = it->second;
    if (first.method != meta.method) return outbox::KeyUsedForAnotherCall();
    if (!first.fingerprint.empty() && first.fingerprint != meta.fingerprint) {
      return outbox::KeyReusedWithAnotherBody();
    }
    if (!first.refusal.ok()) return first.refusal;
    if (const T* v = std::any_cast<T>(&first.value)) return std::optional<T>(*v);
    return std::optional<T>();
  }

  // Whether `meta`'s key has been claimed (by a write or a refusal).
  bool KeyUsed(const outbox::WriteMeta& meta) const {
    absl::MutexLock lock(&mu_);
    return !meta.idempotency_key.empty() &&
           answers_.count(meta.tenant_id + "\n" + meta.idempotency_key) > 0;
  }

  // Reads (or, for what is not a write, changes) the state under the lock.
  template <typename Fn>
  auto With(Fn&& fn) const {
    absl::MutexLock lock(&mu_);
    return fn(static_cast<const State&>(state_));
  }
  template <typename Fn>
  auto WithMutable(Fn&& fn) {
    absl::MutexLock lock(&mu_);
    return fn(state_);
  }

  // Every key forgotten, as the keys' expiry (CRM_IDEMPOTENCY_KEY_TTL) does.
  void ForgetKeys() {
    absl::MutexLock lock(&mu_);
    answers_.clear();
  }

  // Writes that succeeded (replays not counted).
  int writes() const {
    absl::MutexLock lock(&mu_);
    return writes_;
  }

 private:
  struct Answer {
    std::string method;
    std::string fingerprint;
    absl::Status refusal;
    std::any value;
  };

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Answer> answers_ ABSL_GUARDED_BY(mu_);
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::testing
