-- txn schema (engine 5): the product catalog so far, with the shared write
-- tables (audit, outbox, idempotency). Owned by crm_owner; the service runs
-- as crm_app under row-level security.
CREATE SCHEMA IF NOT EXISTS txn;

CREATE TABLE txn.products (
  tenant_id       uuid        NOT NULL,
  sku             text        NOT NULL,
  name            text        NOT NULL,
  category_path   text[]      NOT NULL,
  category        text        NOT NULL,  -- category_path joined with '/', for prefix filters
  price_minor     bigint      NOT NULL CHECK (price_minor >= 0),
  currency        char(3)     NOT NULL,
  attributes      jsonb       NOT NULL DEFAULT '{}',
  active          boolean     NOT NULL DEFAULT true,
  version         bigint      NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, sku)
);
CREATE INDEX products_category_idx ON txn.products (tenant_id, category text_pattern_ops, sku);
CREATE INDEX products_name_idx ON txn.products (tenant_id, lower(name) text_pattern_ops);

CREATE TABLE txn.idempotency_keys (
  tenant_id    uuid        NOT NULL,
  request_id   text        NOT NULL,
  method       text        NOT NULL,
  resource_id  text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, request_id)
);

CREATE TABLE txn.audit_log (
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

CREATE TABLE txn.outbox (
  id            bigserial   PRIMARY KEY,
  event_id      uuid        NOT NULL UNIQUE,
  tenant_id     uuid        NOT NULL,
  customer_id   uuid,
  event_type    text        NOT NULL,
  payload       jsonb       NOT NULL,
  occurred_at   timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX outbox_unpublished_idx ON txn.outbox (id) WHERE published_at IS NULL;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['products', 'idempotency_keys', 'audit_log', 'outbox'] LOOP
    EXECUTE format('ALTER TABLE txn.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE txn.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON txn.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;
CREATE POLICY relay_read ON txn.outbox FOR SELECT
  USING (current_setting('app.relay', true) = 'on');
CREATE POLICY relay_stamp ON txn.outbox FOR UPDATE
  USING (current_setting('app.relay', true) = 'on')
  WITH CHECK (current_setting('app.relay', true) = 'on');

GRANT USAGE ON SCHEMA txn TO crm_app;
GRANT SELECT, INSERT, UPDATE ON txn.products, txn.idempotency_keys, txn.outbox TO crm_app;
GRANT SELECT, INSERT ON txn.audit_log TO crm_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA txn TO crm_app;
