-- The personalization engine's own copy of what it learns from events
-- (docs/events.md): the models in memory are rebuilt from these tables at
-- start. Every row is keyed by what makes it idempotent.

-- Catalog products as product.created / product.updated say (newest version).
CREATE TABLE personalization.products (
  tenant_id uuid NOT NULL,
  sku text NOT NULL,
  category_path text NOT NULL DEFAULT '',
  active boolean NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (tenant_id, sku)
);

-- Customers the engine knows (customer.created / updated); erased ones stay
-- as tombstones, so a late event of theirs is not learned again.
CREATE TABLE personalization.customers (
  tenant_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  erased boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, customer_id)
);

-- The newest status of consent purpose "profiling" per customer and channel.
CREATE TABLE personalization.profiling_consents (
  tenant_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  channel text NOT NULL,
  status text NOT NULL,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, customer_id, channel)
);

-- One row per product of an order (source 'order:<id>') or per tracked
-- product view / cart addition (source 'event:<id>'). user_key: the customer
-- id, or 'visitor:<visitor id>' for anonymous behaviour. signal: 0 view,
-- 1 search, 2 cart, 3 purchase (domain::Signal). seq: the order rows were
-- stored in, which is the order the engine learnt them in: the rebuild
-- replays them in it, so a restarted engine holds the same model.
CREATE TABLE personalization.interactions (
  tenant_id uuid NOT NULL,
  source text NOT NULL,
  sku text NOT NULL,
  user_key text NOT NULL,
  signal smallint NOT NULL,
  occurred_at timestamptz NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, source, sku)
);
CREATE INDEX interactions_user ON personalization.interactions (tenant_id, user_key);
CREATE INDEX interactions_seq ON personalization.interactions (seq);

SELECT personalization.tenant_rls('personalization.products');
SELECT personalization.tenant_rls('personalization.customers');
SELECT personalization.tenant_rls('personalization.profiling_consents');
SELECT personalization.tenant_rls('personalization.interactions');

-- The rebuild at start reads every tenant's rows in a read-only transaction
-- that set app.scheduler = 'on' (as segmentation's scheduler_read).
CREATE POLICY scheduler_read ON personalization.products FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
CREATE POLICY scheduler_read ON personalization.customers FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
CREATE POLICY scheduler_read ON personalization.profiling_consents FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
CREATE POLICY scheduler_read ON personalization.interactions FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');

GRANT SELECT, INSERT, UPDATE, DELETE ON personalization.products, personalization.customers,
  personalization.profiling_consents, personalization.interactions TO crm_app;
