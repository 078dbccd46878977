-- access schema: tenants and API keys, owned by the gateway. Its audit log
-- is the platform's (libs/outbox/platform_schema.cc).
CREATE SCHEMA IF NOT EXISTS access;

CREATE TABLE access.tenants (
  id            uuid        PRIMARY KEY,
  display_name  text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Secrets are never stored: only SHA-256 of the random part (keys carry 256
-- bits of entropy, so a slow hash adds nothing).
CREATE TABLE access.api_keys (
  id                     text        PRIMARY KEY,
  tenant_id              uuid        NOT NULL REFERENCES access.tenants (id),
  display_name           text        NOT NULL DEFAULT '',
  roles                  int[]       NOT NULL,
  secret_sha256          bytea       NOT NULL,
  rate_limit_per_second  int         NOT NULL DEFAULT 0,
  created_at             timestamptz NOT NULL DEFAULT now(),
  expire_at              timestamptz,
  revoked_at             timestamptz,
  created_by             text        NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_tenant_idx ON access.api_keys (tenant_id, created_at, id);

ALTER TABLE access.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE access.tenants FORCE ROW LEVEL SECURITY;
ALTER TABLE access.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE access.api_keys FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON access.tenants
  USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON access.api_keys
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
-- Authentication reads a key by id before the tenant is known (app.auth = 'on',
-- read-only); tenant creation by a platform admin (app.platform = 'on').
CREATE POLICY key_lookup ON access.api_keys FOR SELECT
  USING (current_setting('app.auth', true) = 'on');
CREATE POLICY tenant_create ON access.tenants FOR INSERT
  WITH CHECK (current_setting('app.platform', true) = 'on');
CREATE POLICY tenant_lookup ON access.tenants FOR SELECT
  USING (current_setting('app.platform', true) = 'on');

GRANT USAGE ON SCHEMA access TO crm_app;
GRANT SELECT, INSERT, UPDATE ON access.tenants, access.api_keys TO crm_app;
