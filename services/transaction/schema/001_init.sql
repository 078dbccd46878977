-- txn schema (engine 5): the product catalog. Owned by crm_owner; the
-- service runs as crm_app under row-level security. The platform's tables
-- (idempotency keys, audit log, outbox, processed events) come from the
-- platform migrations (libs/outbox/platform_schema.cc).
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

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['products'] LOOP
    EXECUTE format('ALTER TABLE txn.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE txn.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON txn.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;

GRANT USAGE ON SCHEMA txn TO crm_app;
GRANT SELECT, INSERT, UPDATE ON txn.products TO crm_app;
