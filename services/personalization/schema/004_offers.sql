-- Offers and next-best-offer decisions (docs/personalization.md).

-- The definition as written (checked and normalized by the engine); a
-- retired offer stays for the decisions that name it.
CREATE TABLE personalization.offers (
  tenant_id uuid NOT NULL,
  offer_id text NOT NULL,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  retired boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, offer_id)
);

-- Presentations of capped offers, overall and per customer: the caps are
-- claimed by conditional upserts on these rows, so concurrent calls never
-- exceed them (an offer without caps has no counter row to contend on).
CREATE TABLE personalization.offer_totals (
  tenant_id uuid NOT NULL,
  offer_id text NOT NULL,
  presented bigint NOT NULL,
  PRIMARY KEY (tenant_id, offer_id)
);
CREATE TABLE personalization.offer_customer_counts (
  tenant_id uuid NOT NULL,
  offer_id text NOT NULL,
  customer_id uuid NOT NULL,
  presented bigint NOT NULL,
  PRIMARY KEY (tenant_id, offer_id, customer_id)
);

-- Every decision, for attribution (one offers.presented event per call
-- lists them).
CREATE TABLE personalization.offer_decisions (
  tenant_id uuid NOT NULL,
  decision_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  offer_id text NOT NULL,
  offer_version bigint NOT NULL,
  rank int NOT NULL,
  expected_value double precision NOT NULL,
  relevance double precision NOT NULL,
  p_alive double precision NOT NULL,
  reason text NOT NULL,
  decided_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, decision_id)
);
CREATE INDEX offer_decisions_customer ON personalization.offer_decisions (tenant_id, customer_id);
CREATE INDEX offer_decisions_offer ON personalization.offer_decisions (tenant_id, offer_id);

SELECT personalization.tenant_rls('personalization.offers');
SELECT personalization.tenant_rls('personalization.offer_totals');
SELECT personalization.tenant_rls('personalization.offer_customer_counts');
SELECT personalization.tenant_rls('personalization.offer_decisions');
CREATE POLICY scheduler_read ON personalization.offers FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON personalization.offers, personalization.offer_totals,
  personalization.offer_customer_counts, personalization.offer_decisions TO crm_app;
