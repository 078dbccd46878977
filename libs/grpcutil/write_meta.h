#pragma once
// The actor of a write (outbox::WriteMeta) from a call's request context.
#include <string>

#include "libs/grpcutil/context.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/outbox/write_meta.h"

namespace crm::grpcutil {

// Tenant, principal ("unknown" when none) and request id of the call;
// `key` the idempotency key ("" for none); lenient replay (no fingerprint).
inline outbox::WriteMeta WriteMetaOf(const RequestContext& rc, const char* method,
                                     const std::string& key = "") {
  return outbox::WriteMeta{rc.tenant_id,  rc.principal.empty() ? "unknown" : rc.principal,
                           rc.request_id, method,
                           key,           ""};
}

// A mutating call with a request_id field: strict replay (the digest of the
// request without its request_id is the fingerprint).
template <typename Request>
outbox::WriteMeta IdempotentWriteMetaOf(const RequestContext& rc, const char* method,
                                        const Request& req) {
  outbox::WriteMeta m = WriteMetaOf(rc, method, req.request_id());
  if (!req.request_id().empty()) m.fingerprint = Fingerprint(req);
  return m;
}

}  // namespace crm::grpcutil
