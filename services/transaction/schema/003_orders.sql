-- Orders and their lines. Amounts in minor units of the order's currency.
CREATE TABLE txn.orders (
  tenant_id      uuid        NOT NULL,
  id             uuid        NOT NULL,
  customer_id    uuid        NOT NULL,
  currency       char(3)     NOT NULL,
  total_minor    bigint      NOT NULL CHECK (total_minor >= 0),
  channel        smallint    NOT NULL DEFAULT 0,
  store_id       text        NOT NULL DEFAULT '',
  status         smallint    NOT NULL,
  placed_at      timestamptz NOT NULL,
  version        bigint      NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX orders_recent_idx ON txn.orders (tenant_id, placed_at DESC, id DESC);
CREATE INDEX orders_customer_idx ON txn.orders (tenant_id, customer_id, placed_at DESC, id DESC);

CREATE TABLE txn.order_lines (
  tenant_id         uuid    NOT NULL,
  order_id          uuid    NOT NULL,
  line_no           int     NOT NULL,
  sku               text    NOT NULL,
  quantity          bigint  NOT NULL CHECK (quantity > 0),
  unit_price_minor  bigint  NOT NULL CHECK (unit_price_minor >= 0),
  discount_minor    bigint  NOT NULL CHECK (discount_minor >= 0),
  PRIMARY KEY (tenant_id, order_id, line_no),
  FOREIGN KEY (tenant_id, order_id) REFERENCES txn.orders (tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['orders', 'order_lines'] LOOP
    EXECUTE format('ALTER TABLE txn.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE txn.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON txn.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE ON txn.orders, txn.order_lines TO crm_app;
