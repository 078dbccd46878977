-- Orders gain an external id (the ERP's order number, unique per tenant when
-- set), and the money that moved after the order: payments, returns and
-- refunds are records of their own, linked to the order. The order row keeps
-- running sums (captured, returned, refunded) updated in the same
-- transaction as the record, so reads need no aggregation.
ALTER TABLE txn.orders
  ADD COLUMN external_id     text   NOT NULL DEFAULT '',
  ADD COLUMN paid_minor      bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
  ADD COLUMN returned_minor  bigint NOT NULL DEFAULT 0 CHECK (returned_minor >= 0),
  ADD COLUMN refunded_minor  bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
  -- refunds not tied to a return (price adjustments, goodwill): they lower
  -- the order's net value like a return does
  ADD COLUMN adjusted_minor  bigint NOT NULL DEFAULT 0 CHECK (adjusted_minor >= 0);
CREATE UNIQUE INDEX orders_external_id_key ON txn.orders (tenant_id, external_id)
  WHERE external_id <> '';
-- Units returned so far per line (a line cannot return more than it sold).
ALTER TABLE txn.order_lines
  ADD COLUMN returned_quantity bigint NOT NULL DEFAULT 0 CHECK (returned_quantity >= 0),
  ADD CONSTRAINT order_lines_returned_le_quantity CHECK (returned_quantity <= quantity);

CREATE TABLE txn.payments (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  order_id      uuid        NOT NULL,
  amount_minor  bigint      NOT NULL CHECK (amount_minor > 0),
  method        smallint    NOT NULL,
  status        smallint    NOT NULL,
  provider_ref  text        NOT NULL DEFAULT '',
  version       bigint      NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, order_id) REFERENCES txn.orders (tenant_id, id)
);
CREATE INDEX payments_order_idx ON txn.payments (tenant_id, order_id, created_at);

CREATE TABLE txn.returns (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  order_id      uuid        NOT NULL,
  amount_minor  bigint      NOT NULL CHECK (amount_minor >= 0),
  reason        text        NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, order_id) REFERENCES txn.orders (tenant_id, id)
);
CREATE INDEX returns_order_idx ON txn.returns (tenant_id, order_id, created_at);

CREATE TABLE txn.return_lines (
  tenant_id     uuid   NOT NULL,
  return_id     uuid   NOT NULL,
  line_no       int    NOT NULL,  -- the order line returned
  sku           text   NOT NULL,
  quantity      bigint NOT NULL CHECK (quantity > 0),
  amount_minor  bigint NOT NULL CHECK (amount_minor >= 0),
  PRIMARY KEY (tenant_id, return_id, line_no),
  FOREIGN KEY (tenant_id, return_id) REFERENCES txn.returns (tenant_id, id)
);

CREATE TABLE txn.refunds (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  order_id      uuid        NOT NULL,
  return_id     uuid,
  amount_minor  bigint      NOT NULL CHECK (amount_minor > 0),
  status        smallint    NOT NULL,
  reason        text        NOT NULL DEFAULT '',
  version       bigint      NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, order_id) REFERENCES txn.orders (tenant_id, id)
);
CREATE INDEX refunds_order_idx ON txn.refunds (tenant_id, order_id, created_at);

-- Per-tenant order policy.
CREATE TABLE txn.order_settings (
  tenant_id                 uuid        PRIMARY KEY,
  create_unknown_customers  boolean     NOT NULL DEFAULT false,
  version                   bigint      NOT NULL DEFAULT 1,
  updated_at                timestamptz NOT NULL
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['payments', 'returns', 'return_lines', 'refunds', 'order_settings'] LOOP
    EXECUTE format('ALTER TABLE txn.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE txn.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON txn.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE ON txn.payments, txn.returns, txn.return_lines, txn.refunds,
  txn.order_settings TO crm_app;
