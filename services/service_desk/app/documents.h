#pragma once
// A tenant's rules kept as one document under a version (routing rules,
// triggers): written whole under its etag, in one write.
#include <algorithm>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "libs/common/etag.h"
#include "libs/common/request_id.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/ports.h"

namespace crm::service_desk::app {

// `doc` (checked by the caller) replaces the stored one if `if_match` is
// its etag ("0" before the first write; "" = last writer wins): ABORTED
// ETAG_MISMATCH naming `what` otherwise. `resource` keys the write.
template <typename Doc>
absl::StatusOr<Doc> WriteDocument(TicketRepository& repository, const common::Clock& clock,
                                  const Actor& actor, const Doc& doc, const std::string& if_match,
                                  const char* what, const char* resource,
                                  absl::StatusOr<Doc> (TicketTx::*load)(),
                                  void (TicketTx::*save)(const Doc&)) {
  CRM_RETURN_IF_ERROR(common::RequireRequestId(actor.idempotency_key));
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

}  // namespace crm::service_desk::app
