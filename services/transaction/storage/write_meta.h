#pragma once
// The transactional writer's view of a use case's actor (one mapping for
// every repository of the service).
#include "libs/outbox/writer.h"
#include "services/transaction/app/ports.h"

namespace crm::transaction::storage {

inline outbox::WriteMeta MetaOf(const app::Actor& a) {
  return outbox::WriteMeta{a.tenant_id,       a.principal, a.request_id, a.method,
                           a.idempotency_key, a.fingerprint};
}

}  // namespace crm::transaction::storage
