#pragma once
// The platform's own tables, shipped as migrations by this library and
// applied by crm-migrate into every service's schema before the service's
// own files (recorded as versions "platform-NNN" of that service):
//
//   <schema>.idempotency_keys   the write discipline's keys, their stored
//                               answers and refusals (TransactionalWriter)
//   <schema>.audit_log          one row per write, append-only for crm_app
//   <schema>.outbox             events written with the state change (Relay)
//   <schema>.processed_events   events a consumer has handled
//                               (events::MarkProcessed)
//
// Every table carries tenant_id under row-level security; the relay reads
// and stamps the outbox across tenants (app.relay = 'on') and the purge
// deletes expired keys and long-published outbox rows across tenants
// (app.maintenance = 'on'). No service
// writes this DDL itself. Each migration converges both a fresh schema and
// one made before the platform migrations existed (whose own files created
// these tables), so existing databases migrate in place.
#include <vector>

#include "libs/pg/migrate.h"

namespace crm::outbox {

// In application order; the SQL names the target schema as {schema}.
const std::vector<pg::Migration>& PlatformMigrations();

}  // namespace crm::outbox
