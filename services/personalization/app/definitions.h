#pragma once
// Definitions a tenant writes and the engine reads on every call (content
// slots, message templates): created, replaced and deleted through the unit
// of work (idempotency key, audit row), one write at a time, each followed by
// reading the stored state into memory (DefinitionCache), so calls read no
// store. The caller checks and normalizes a draft before it is written.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/status_macros.h"
#include "libs/outbox/write_meta.h"
#include "services/personalization/app/definition_cache.h"
#include "services/personalization/app/ports.h"
#include "services/personalization/domain/slots.h"

namespace crm::personalization::app {

// What a kind of definition is called in messages and error reasons.
struct DefinitionKind {
  const char* noun;              // "slot"
  const char* plural;            // "slots"
  const char* exists_reason;     // "SLOT_EXISTS"
  const char* not_found_reason;  // "SLOT_NOT_FOUND"
  const char* too_many_reason;   // "TOO_MANY_SLOTS"
  std::size_t max_per_tenant = 0;
};

template <typename T>
class Definitions {
 public:
  Definitions(DefinitionRepository<T>& repository, std::string T::*id, DefinitionKind kind,
              const common::Clock& clock)
      : repository_(repository), id_(id), kind_(kind), clock_(clock) {}

  absl::Status Load() {  // every tenant's (at start)
    CRM_ASSIGN_OR_RETURN(auto all, repository_.LoadAll());
    cache_.Reset(std::move(all), [this](const T& d) { return d.*id_; });
    return absl::OkStatus();
  }

  // ALREADY_EXISTS (exists_reason) for a taken id; FAILED_PRECONDITION
  // (too_many_reason) at max_per_tenant.
  absl::StatusOr<T> Create(const outbox::WriteMeta& meta, const T& draft) {
    const std::string& id = draft.*id_;
    return Write(meta, id, [&](DefinitionTx<T>& tx) -> absl::StatusOr<T> {
      CRM_ASSIGN_OR_RETURN(std::optional<T> existing, tx.Load(id));
      if (existing) {
        return common::WithReason(
            absl::AlreadyExistsError(
                absl::StrCat(kind_.noun, " \"", id, "\" exists; update it or pick another id")),
            kind_.exists_reason);
      }
      CRM_ASSIGN_OR_RETURN(std::size_t count, tx.Count());
      if (count >= kind_.max_per_tenant) {
        return common::WithReason(absl::FailedPreconditionError(
                                      absl::StrCat("a tenant has at most ", kind_.max_per_tenant,
                                                   " ", kind_.plural, "; delete one first")),
                                  kind_.too_many_reason);
      }
      T d = draft;
      d.version = 1;
      d.create_time = d.update_time = clock_.Now();
      tx.Save(d);
      return d;
    });
  }
  // Replaces the definition. if_match ("": any) is the version read:
  // ABORTED (ETAG_MISMATCH) when it is at another; NOT_FOUND (not_found_reason).
  absl::StatusOr<T> Update(const outbox::WriteMeta& meta, const T& draft,
                           const std::string& if_match) {
    const std::string& id = draft.*id_;
    return Write(meta, id, [&](DefinitionTx<T>& tx) -> absl::StatusOr<T> {
      CRM_ASSIGN_OR_RETURN(T existing, Existing(tx, id, if_match));
      T d = draft;
      d.version = existing.version + 1;
      d.create_time = existing.create_time;
      d.update_time = clock_.Now();
      tx.Save(d);
      return d;
    });
  }
  // Answers the definition as it was.
  absl::StatusOr<T> Delete(const outbox::WriteMeta& meta, const std::string& id,
                           const std::string& if_match) {
    if (!domain::IsSlotId(id)) return NotFound();
    return Write(meta, id, [&](DefinitionTx<T>& tx) -> absl::StatusOr<T> {
      CRM_ASSIGN_OR_RETURN(T existing, Existing(tx, id, if_match));
      tx.Delete(id);
      return existing;
    });
  }

  std::shared_ptr<const T> Find(const std::string& tenant, const std::string& id) const {
    return cache_.Find(tenant, id);
  }
  absl::StatusOr<T> Get(const std::string& tenant, const std::string& id) const {
    auto d = cache_.Find(tenant, id);
    if (d == nullptr) return NotFound();
    return *d;
  }
  std::vector<T> List(const std::string& tenant) const {  // id order
    std::vector<T> out;
    for (const auto& d : cache_.All(tenant)) out.push_back(*d);
    return out;
  }
  absl::Status NotFound() const {
    return common::WithReason(absl::NotFoundError(absl::StrCat(kind_.noun, " not found")),
                              kind_.not_found_reason);
  }

 private:
  template <typename Work>
  absl::StatusOr<T> Write(const outbox::WriteMeta& meta, const std::string& id, Work work) {
    absl::MutexLock w(&write_mu_);
    CRM_ASSIGN_OR_RETURN(T out, repository_.template Run<T>(meta, id, work));
    // The stored state (after the write or its replay) into memory.
    CRM_ASSIGN_OR_RETURN(std::optional<T> now, repository_.Current(meta.tenant_id, id));
    cache_.Replace(meta.tenant_id, id, std::move(now));
    return out;
  }
  absl::StatusOr<T> Existing(DefinitionTx<T>& tx, const std::string& id,
                             const std::string& if_match) const {
    CRM_ASSIGN_OR_RETURN(std::optional<T> existing, tx.Load(id));
    if (!existing) return NotFound();
    CRM_RETURN_IF_ERROR(common::CheckEtag(kind_.noun, absl::StrCat(existing->version), if_match));
    return *std::move(existing);
  }

  DefinitionRepository<T>& repository_;
  std::string T::*id_;
  const DefinitionKind kind_;
  const common::Clock& clock_;
  absl::Mutex write_mu_;  // writes one at a time: memory in commit order
  DefinitionCache<T> cache_;
};

}  // namespace crm::personalization::app
