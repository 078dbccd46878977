#pragma once
// Who writes, under which key: what every write of every service carries
// from its API handler to the unit of work (unit_of_work.h). Free of
// database headers, so app layers hold it as their actor.
#include <string>

namespace crm::outbox {

struct WriteMeta {
  std::string tenant_id;
  std::string principal;
  std::string request_id;  // x-request-id, for the audit trail
  std::string method;
  // The client's request_id field, "" if none: a repeated call with the same
  // key answers what the first call answered instead of writing again.
  std::string idempotency_key;
  // Digest of the request body (without its request_id); "" = not checked.
  // The same key with another fingerprint is refused (IDEMPOTENCY_KEY_REUSED);
  // a key claimed without one (a lenient write) replays whatever the body.
  std::string fingerprint;
};

}  // namespace crm::outbox
