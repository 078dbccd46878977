#pragma once
// A tenant's rules kept as one document under a version (routing rules,
// triggers, automations), written whole under its etag in one write; and
// its resources kept one by one (macros, articles).
#include <algorithm>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "libs/common/errors.h"
#include "libs/common/etag.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

// `doc` (checked by the caller) replaces the stored one if `if_match` is
// its etag ("0" before the first write; "" = last writer wins): ABORTED
// ETAG_MISMATCH naming `what` otherwise. `resource` keys the write; the
// caller has checked the actor's request id (before the document, so a
// missing one is the first error).
template <typename Doc>
absl::StatusOr<Doc> WriteDocument(TicketRepository& repository, const common::Clock& clock,
                                  const Actor& actor, const Doc& doc, const std::string& if_match,
                                  const char* what, const char* resource,
                                  absl::StatusOr<Doc> (TicketTx::*load)(),
                                  void (TicketTx::*save)(const Doc&)) {
  return repository.Run<Doc>(actor, resource, [&](TicketTx& tx) -> absl::StatusOr<Doc> {
    CRM_ASSIGN_OR_RETURN(Doc current, (tx.*load)());
    CRM_RETURN_IF_ERROR(common::CheckEtag(what, absl::StrCat(current.version), if_match));
    Doc next = doc;
    next.version = current.version + 1;
    next.update_time =
        std::max(absl::FromUnixMicros(absl::ToUnixMicros(clock.Now())), current.update_time);
    (tx.*save)(next);
    return next;
  });
}

// A tenant's resources of one kind kept one by one under their own etag
// (macros, articles): how a write reaches them, and their limits.
template <typename T>
struct ResourceKind {
  const char* what;      // "macro": the etag's and the errors' name
  size_t max;            // a tenant's at most
  const char* too_many;  // its FAILED_PRECONDITION reason
  absl::Status (*not_found)();
  absl::StatusOr<std::optional<T>> (TicketTx::*load)(const std::string& id);  // locked
  void (TicketTx::*save)(const T& item, bool is_new);
  void (TicketTx::*erase)(const std::string& id);
  absl::StatusOr<int> (TicketTx::*count)();
  // Checks a new or changed item in the write before its save (nullptr: none).
  absl::Status (*check)(TicketTx& tx, const T& item) = nullptr;
};

// Creates `item` (checked, its id, version 1 and times set by the caller)
// unless the tenant has `kind.max` already.
template <typename T>
absl::StatusOr<T> CreateResource(TicketRepository& repository, const ResourceKind<T>& kind,
                                 const Actor& actor, const T& item) {
  return repository.Run<T>(actor, item.id, [&](TicketTx& tx) -> absl::StatusOr<T> {
    CRM_ASSIGN_OR_RETURN(int count, (tx.*kind.count)());
    if (count >= static_cast<int>(kind.max)) {
      return common::WithReason(
          absl::FailedPreconditionError(absl::StrCat("a tenant has at most ", kind.max, " ",
                                                     kind.what, "s; delete one first")),
          kind.too_many);
    }
    if (kind.check != nullptr) CRM_RETURN_IF_ERROR(kind.check(tx, item));
    (tx.*kind.save)(item, true);
    return item;
  });
}

// Replaces resource `id` under `if_match` ("" = last writer wins) with
// `next(current)`; NOT_FOUND kind.not_found when absent. `remove`: deletes
// it instead, answering it as it was.
template <typename T>
absl::StatusOr<T> ChangeResource(TicketRepository& repository, const ResourceKind<T>& kind,
                                 const Actor& actor, const std::string& id,
                                 const std::string& if_match,
                                 absl::FunctionRef<T(const T& current)> next, bool remove) {
  return repository.Run<T>(actor, id, [&](TicketTx& tx) -> absl::StatusOr<T> {
    CRM_ASSIGN_OR_RETURN(std::optional<T> current, (tx.*kind.load)(id));
    if (!current) return kind.not_found();
    CRM_RETURN_IF_ERROR(common::CheckEtag(kind.what, absl::StrCat(current->version), if_match));
    if (remove) {
      (tx.*kind.erase)(id);
      return *current;
    }
    T out = next(*current);
    if (kind.check != nullptr) CRM_RETURN_IF_ERROR(kind.check(tx, out));
    (tx.*kind.save)(out, false);
    return out;
  });
}

}  // namespace crm::service_desk::app
