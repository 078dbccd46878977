-- customer_store schema: owned by crm_owner, used by crm_app under row-level
-- security (ENABLE + FORCE; the app role is not the owner). The platform's
-- tables (idempotency keys, audit log, outbox, processed events) come from
-- the platform migrations (libs/outbox/platform_schema.cc).
CREATE SCHEMA IF NOT EXISTS customer_store;

CREATE TABLE customer_store.customers (
  tenant_id        uuid        NOT NULL,
  id               uuid        NOT NULL,
  given_name       text        NOT NULL DEFAULT '',
  family_name      text        NOT NULL DEFAULT '',
  display_name     text        NOT NULL DEFAULT '',
  postal_address   jsonb,
  birthday         jsonb,
  anniversaries    jsonb       NOT NULL DEFAULT '[]',
  locale           text        NOT NULL DEFAULT '',
  time_zone        text        NOT NULL DEFAULT '',
  lifecycle_stage  smallint    NOT NULL DEFAULT 0,
  owner            text        NOT NULL DEFAULT '',
  attributes       jsonb       NOT NULL DEFAULT '{}',
  version          bigint      NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- Name prefix search (case-insensitive) and the default listing order.
CREATE INDEX customers_given_name_idx ON customer_store.customers (tenant_id, lower(given_name) text_pattern_ops);
CREATE INDEX customers_family_name_idx ON customer_store.customers (tenant_id, lower(family_name) text_pattern_ops);
CREATE INDEX customers_display_name_idx ON customer_store.customers (tenant_id, lower(display_name) text_pattern_ops);
CREATE INDEX customers_stage_idx ON customer_store.customers (tenant_id, lifecycle_stage, id);

-- Identities: kind 1 email, 2 phone, 3 external id. Unique per tenant.
CREATE TABLE customer_store.identities (
  tenant_id    uuid        NOT NULL,
  kind         smallint    NOT NULL CHECK (kind IN (1, 2, 3)),
  source       text        NOT NULL DEFAULT '',
  value        text        NOT NULL,
  customer_id  uuid        NOT NULL,
  position     int         NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, kind, source, value),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customer_store.customers (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX identities_customer_idx ON customer_store.identities (tenant_id, customer_id);

-- Consent history; the current state is the newest row per (channel, purpose).
CREATE TABLE customer_store.consents (
  tenant_id       uuid        NOT NULL,
  id              bigserial   NOT NULL,
  customer_id     uuid        NOT NULL,
  channel         smallint    NOT NULL,
  purpose         smallint    NOT NULL,
  status          smallint    NOT NULL,
  source          text        NOT NULL DEFAULT '',
  policy_version  text        NOT NULL DEFAULT '',
  recorded_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX consents_customer_idx
  ON customer_store.consents (tenant_id, customer_id, channel, purpose, recorded_at DESC, id DESC);

-- Interaction timeline, paged newest first by (occurred_at, id).
CREATE TABLE customer_store.interactions (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  customer_id  uuid        NOT NULL,
  kind         smallint    NOT NULL,
  channel      text        NOT NULL DEFAULT '',
  occurred_at  timestamptz NOT NULL,
  actor        text        NOT NULL DEFAULT '',
  summary      text        NOT NULL DEFAULT '',
  payload      jsonb       NOT NULL DEFAULT '{}',
  source       text        NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, customer_id) REFERENCES customer_store.customers (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX interactions_timeline_idx
  ON customer_store.interactions (tenant_id, customer_id, occurred_at DESC, id DESC);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customers', 'identities', 'consents', 'interactions'] LOOP
    EXECUTE format('ALTER TABLE customer_store.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE customer_store.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON customer_store.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;

GRANT USAGE ON SCHEMA customer_store TO crm_app;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON customer_store.customers, customer_store.identities, customer_store.consents,
     customer_store.interactions TO crm_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA customer_store TO crm_app;
