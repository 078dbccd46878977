#include "libs/outbox/platform_schema.h"

namespace crm::outbox {
namespace {

// platform-001: the four tables, their row-level security and grants.
// Written to converge: on a fresh schema it creates everything; on a schema
// whose own 001 file created these tables (before this migration existed)
// it adds what those lacked and replaces policies and grants with these.
constexpr const char* kPlatform001 = R"sql(
CREATE SCHEMA IF NOT EXISTS {schema};
GRANT USAGE ON SCHEMA {schema} TO crm_app;

-- Idempotency keys of mutating calls: the request's fingerprint, the first
-- call's resource, its answer or its deterministic refusal, so a retry
-- answers exactly what the first call answered. Expired keys (created_at
-- older than CRM_IDEMPOTENCY_KEY_TTL) count as unused and are purged.
CREATE TABLE IF NOT EXISTS {schema}.idempotency_keys (
  tenant_id      uuid        NOT NULL,
  request_id     text        NOT NULL,
  method         text        NOT NULL,
  resource_id    text        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  fingerprint    text        NOT NULL DEFAULT '',
  error_code     int,
  error_reason   text,
  error_message  text,
  error_field    text,
  response       text,
  PRIMARY KEY (tenant_id, request_id)
);
ALTER TABLE {schema}.idempotency_keys
  ADD COLUMN IF NOT EXISTS fingerprint text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS error_code int,
  ADD COLUMN IF NOT EXISTS error_reason text,
  ADD COLUMN IF NOT EXISTS error_message text,
  ADD COLUMN IF NOT EXISTS error_field text,
  ADD COLUMN IF NOT EXISTS response text;
CREATE INDEX IF NOT EXISTS idempotency_keys_created_idx
  ON {schema}.idempotency_keys (created_at);

-- Every write and every refused write, in the write's transaction.
CREATE TABLE IF NOT EXISTS {schema}.audit_log (
  tenant_id    uuid        NOT NULL,
  id           bigserial   NOT NULL,
  principal    text        NOT NULL,
  method       text        NOT NULL,
  resource     text        NOT NULL,
  outcome      text        NOT NULL,
  request_id   text        NOT NULL DEFAULT '',
  at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
ALTER TABLE {schema}.audit_log ADD COLUMN IF NOT EXISTS request_id text NOT NULL DEFAULT '';
DO $$
BEGIN
  -- An audit log keyed by id alone (the gateway's first schema) is keyed
  -- like every other: (tenant_id, id).
  IF EXISTS (SELECT 1 FROM pg_constraint
             WHERE conrelid = '{schema}.audit_log'::regclass AND contype = 'p'
               AND cardinality(conkey) = 1) THEN
    EXECUTE (SELECT format('ALTER TABLE {schema}.audit_log DROP CONSTRAINT %I', conname)
             FROM pg_constraint
             WHERE conrelid = '{schema}.audit_log'::regclass AND contype = 'p');
    ALTER TABLE {schema}.audit_log ADD PRIMARY KEY (tenant_id, id);
  END IF;
END $$;

-- Transactional outbox: written with the state change; the relay publishes
-- rows to Redis Streams and stamps published_at.
CREATE TABLE IF NOT EXISTS {schema}.outbox (
  id            bigserial   PRIMARY KEY,
  event_id      uuid        NOT NULL UNIQUE,
  tenant_id     uuid        NOT NULL,
  customer_id   uuid,
  event_type    text        NOT NULL,
  payload       jsonb       NOT NULL,
  occurred_at   timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished_idx
  ON {schema}.outbox (id) WHERE published_at IS NULL;

-- Events a consumer has handled, so a redelivered event takes effect once.
-- tenant_id comes from the handler's tenant transaction. Rows recorded
-- before this column existed belong to no tenant (the nil UUID): they still
-- deduplicate, since (consumer, event_id) is unique across tenants.
CREATE TABLE IF NOT EXISTS {schema}.processed_events (
  tenant_id     uuid        NOT NULL
                DEFAULT nullif(current_setting('app.tenant_id', true), '')::uuid,
  consumer      text        NOT NULL,
  event_id      uuid        NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
ALTER TABLE {schema}.processed_events ADD COLUMN IF NOT EXISTS tenant_id uuid;
UPDATE {schema}.processed_events SET tenant_id = '00000000-0000-0000-0000-000000000000'
  WHERE tenant_id IS NULL;
ALTER TABLE {schema}.processed_events
  ALTER COLUMN tenant_id SET DEFAULT nullif(current_setting('app.tenant_id', true), '')::uuid,
  ALTER COLUMN tenant_id SET NOT NULL;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['idempotency_keys', 'audit_log', 'outbox', 'processed_events'] LOOP
    EXECUTE format('ALTER TABLE {schema}.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE {schema}.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON {schema}.%I', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON {schema}.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;

-- The outbox relay works across tenants: it sets app.relay = 'on' and may
-- read and stamp every row, nothing else.
DROP POLICY IF EXISTS relay_read ON {schema}.outbox;
CREATE POLICY relay_read ON {schema}.outbox FOR SELECT
  USING (current_setting('app.relay', true) = 'on');
DROP POLICY IF EXISTS relay_stamp ON {schema}.outbox;
CREATE POLICY relay_stamp ON {schema}.outbox FOR UPDATE
  USING (current_setting('app.relay', true) = 'on')
  WITH CHECK (current_setting('app.relay', true) = 'on');

-- The key purge works across tenants: app.maintenance = 'on' may read and
-- delete idempotency keys, nothing else.
DROP POLICY IF EXISTS maintenance_read ON {schema}.idempotency_keys;
CREATE POLICY maintenance_read ON {schema}.idempotency_keys FOR SELECT
  USING (current_setting('app.maintenance', true) = 'on');
DROP POLICY IF EXISTS maintenance_purge ON {schema}.idempotency_keys;
CREATE POLICY maintenance_purge ON {schema}.idempotency_keys FOR DELETE
  USING (current_setting('app.maintenance', true) = 'on');

-- The app role: keys are claimed, answered and purged; audit rows and
-- processed events are only added; outbox rows are added and stamped.
REVOKE ALL ON {schema}.idempotency_keys, {schema}.audit_log, {schema}.outbox,
              {schema}.processed_events FROM crm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.idempotency_keys TO crm_app;
GRANT SELECT, INSERT ON {schema}.audit_log, {schema}.processed_events TO crm_app;
GRANT SELECT, INSERT ON {schema}.outbox TO crm_app;
GRANT UPDATE (published_at) ON {schema}.outbox TO crm_app;
GRANT USAGE ON SEQUENCE {schema}.audit_log_id_seq, {schema}.outbox_id_seq TO crm_app;
)sql";

// The outbox purge (KeyPurger, outbox_keep): app.maintenance = 'on' may read
// and delete outbox rows across tenants. The restrictive policy makes that the
// only delete there is (tenant_isolation alone would let the app role delete
// its tenant's rows), and only of rows already published.
constexpr const char* kPlatform002 = R"sql(
DROP POLICY IF EXISTS maintenance_read ON {schema}.outbox;
CREATE POLICY maintenance_read ON {schema}.outbox FOR SELECT
  USING (current_setting('app.maintenance', true) = 'on');
DROP POLICY IF EXISTS maintenance_purge ON {schema}.outbox;
CREATE POLICY maintenance_purge ON {schema}.outbox FOR DELETE
  USING (current_setting('app.maintenance', true) = 'on');
DROP POLICY IF EXISTS purge_only_published ON {schema}.outbox;
CREATE POLICY purge_only_published ON {schema}.outbox AS RESTRICTIVE FOR DELETE
  USING (current_setting('app.maintenance', true) = 'on' AND published_at IS NOT NULL);
GRANT DELETE ON {schema}.outbox TO crm_app;
)sql";

// Row-level security for a service's table in one call: ENABLE and FORCE,
// and the tenant_isolation policy every tenant table has (app.tenant_id).
// Migrations call it after CREATE TABLE instead of writing the block out
// (`SELECT {schema}.tenant_rls('{schema}.my_table');`); files applied
// before it existed keep their own block.
constexpr const char* kPlatform003 = R"sql(
CREATE OR REPLACE FUNCTION {schema}.tenant_rls(t regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
  EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', t);
  EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
                   USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                   WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$,
                 t);
END $$;
REVOKE ALL ON FUNCTION {schema}.tenant_rls(regclass) FROM PUBLIC;
)sql";

}  // namespace

const std::vector<pg::Migration>& PlatformMigrations() {
  static const std::vector<pg::Migration> migrations = {
      {"platform-001", "platform/001_platform_tables.sql", kPlatform001},
      {"platform-002", "platform/002_outbox_purge.sql", kPlatform002},
      {"platform-003", "platform/003_tenant_rls.sql", kPlatform003},
  };
  return migrations;
}

}  // namespace crm::outbox
