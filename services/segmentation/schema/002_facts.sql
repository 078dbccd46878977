-- The facts the segmentation engine keeps from other engines' events (it
-- never reads their tables): customers from customer-store's customer.*
-- events, orders from the transaction engine's order.* events (the newest
-- version of each order).
CREATE TABLE segmentation.customers (
  tenant_id    uuid        NOT NULL,
  customer_id  uuid        NOT NULL,
  PRIMARY KEY (tenant_id, customer_id)
);

CREATE TABLE segmentation.purchases (
  tenant_id      uuid        NOT NULL,
  order_id       uuid        NOT NULL,
  customer_id    uuid        NOT NULL,  -- the order's customer now (after merges)
  placed_by      uuid        NOT NULL,  -- the customer the order event names
  placed_at      timestamptz NOT NULL,
  currency_code  char(3)     NOT NULL,
  net_minor      bigint      NOT NULL,
  status         text        NOT NULL,
  version        bigint      NOT NULL,
  PRIMARY KEY (tenant_id, order_id)
);
CREATE INDEX purchases_customer_idx ON segmentation.purchases (tenant_id, customer_id);
CREATE INDEX purchases_placed_by_idx ON segmentation.purchases (tenant_id, placed_by);

-- Customers merged into another (customer.merged until customer.unmerged):
-- orders placed by a source count for its survivor.
CREATE TABLE segmentation.merges (
  tenant_id    uuid NOT NULL,
  source_id    uuid NOT NULL,
  survivor_id  uuid NOT NULL,
  PRIMARY KEY (tenant_id, source_id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customers', 'purchases', 'merges'] LOOP
    EXECUTE format('ALTER TABLE segmentation.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE segmentation.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON segmentation.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON segmentation.customers, segmentation.purchases,
  segmentation.merges TO crm_app;
-- Erasure deletes a customer's model-free facts; a stored model holds no
-- customer data.
