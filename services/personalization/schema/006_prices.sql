-- Personal prices (docs/personalization.md, "Personal prices").

-- The list price and unit cost product.created / product.updated carry
-- (none in events from before them: such a product cannot be quoted).
ALTER TABLE personalization.products
  ADD COLUMN price_minor bigint NOT NULL DEFAULT -1,
  ADD COLUMN currency text NOT NULL DEFAULT '',
  ADD COLUMN cost_minor bigint;

-- A tenant's price policy: guardrails and discount tiers, as written
-- (checked and normalized by the engine).
CREATE TABLE personalization.price_policies (
  tenant_id uuid PRIMARY KEY,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Every quote given, with what set its price (the signed token itself is
-- not kept: it is only good until expires_at).
CREATE TABLE personalization.price_quotes (
  tenant_id uuid NOT NULL,
  quote_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  sku text NOT NULL,
  currency text NOT NULL,
  list_price_minor bigint NOT NULL,
  unit_price_minor bigint NOT NULL,
  discount_bp int NOT NULL,
  reason text NOT NULL,
  tier text NOT NULL,
  price_limit text NOT NULL,
  quoted_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, quote_id)
);
CREATE INDEX price_quotes_customer ON personalization.price_quotes (tenant_id, customer_id);

SELECT personalization.tenant_rls('personalization.price_policies');
SELECT personalization.tenant_rls('personalization.price_quotes');
CREATE POLICY scheduler_read ON personalization.price_policies FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON personalization.price_policies,
  personalization.price_quotes TO crm_app;
