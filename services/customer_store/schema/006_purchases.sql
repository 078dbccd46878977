-- Purchases projected from the transaction engine's order events: one row
-- per order, kept at the newest order version seen (events may repeat or
-- arrive out of order). The 360 view's purchase aggregates are computed from
-- it.
CREATE TABLE customer_store.purchases (
  tenant_id      uuid        NOT NULL,
  order_id       uuid        NOT NULL,
  customer_id    uuid        NOT NULL,
  currency       char(3)     NOT NULL,
  total_minor    bigint      NOT NULL,
  status         text        NOT NULL,
  placed_at      timestamptz NOT NULL,
  order_version  bigint      NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, order_id)
);
CREATE INDEX purchases_customer_idx ON customer_store.purchases (tenant_id, customer_id);
ALTER TABLE customer_store.purchases ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_store.purchases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_store.purchases
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON customer_store.purchases TO crm_app;
