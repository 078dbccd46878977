-- The sales pipeline: leads, opportunities, their stage history and the
-- tenant's stage probabilities. Amounts in minor units of the opportunity's
-- currency. Stage and status numbers are those of
-- crm.transaction.v1.OpportunityStage / LeadStatus.
CREATE TABLE txn.leads (
  tenant_id       uuid        NOT NULL,
  id              uuid        NOT NULL,
  given_name      text        NOT NULL DEFAULT '',
  family_name     text        NOT NULL DEFAULT '',
  company_name    text        NOT NULL DEFAULT '',
  email           text        NOT NULL DEFAULT '',
  phone           text        NOT NULL DEFAULT '',
  source          text        NOT NULL DEFAULT '',
  status          smallint    NOT NULL CHECK (status BETWEEN 1 AND 5),
  owner           text        NOT NULL DEFAULT '',
  score           int         NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 100),
  customer_id     uuid,
  opportunity_id  uuid,
  converted_at    timestamptz,
  version         bigint      NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX leads_recent_idx ON txn.leads (tenant_id, created_at DESC, id DESC);
CREATE INDEX leads_owner_idx ON txn.leads (tenant_id, owner, created_at DESC, id DESC);

CREATE TABLE txn.opportunities (
  tenant_id            uuid        NOT NULL,
  id                   uuid        NOT NULL,
  name                 text        NOT NULL,
  customer_id          uuid,
  lead_id              uuid,
  amount_minor         bigint      NOT NULL CHECK (amount_minor >= 0),
  currency             char(3)     NOT NULL,
  expected_close_date  date        NOT NULL,
  owner                text        NOT NULL DEFAULT '',
  stage                smallint    NOT NULL CHECK (stage BETWEEN 1 AND 6),
  order_id             uuid,
  close_reason         text        NOT NULL DEFAULT '',
  closed_at            timestamptz,
  version              bigint      NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX opportunities_recent_idx ON txn.opportunities (tenant_id, created_at DESC, id DESC);
CREATE INDEX opportunities_customer_idx
  ON txn.opportunities (tenant_id, customer_id, created_at DESC, id DESC);
-- The forecast: open ones by expected close date, won ones by close time.
CREATE INDEX opportunities_open_close_date_idx
  ON txn.opportunities (tenant_id, expected_close_date) WHERE stage BETWEEN 1 AND 4;
CREATE INDEX opportunities_won_idx
  ON txn.opportunities (tenant_id, closed_at) WHERE stage = 5;

-- Append-only: one row per stage change, the first one (from_stage 0) at
-- creation.
CREATE TABLE txn.opportunity_stage_history (
  tenant_id       uuid        NOT NULL,
  opportunity_id  uuid        NOT NULL,
  seq             int         NOT NULL,
  from_stage      smallint    NOT NULL CHECK (from_stage BETWEEN 0 AND 6),
  to_stage        smallint    NOT NULL CHECK (to_stage BETWEEN 1 AND 6),
  changed_at      timestamptz NOT NULL,
  principal       text        NOT NULL,
  PRIMARY KEY (tenant_id, opportunity_id, seq),
  FOREIGN KEY (tenant_id, opportunity_id) REFERENCES txn.opportunities (tenant_id, id)
);

-- Only the stages a tenant changed; the others have their defaults
-- (domain::StageProbabilities).
CREATE TABLE txn.stage_probabilities (
  tenant_id            uuid        NOT NULL,
  stage                smallint    NOT NULL CHECK (stage BETWEEN 1 AND 6),
  probability_percent  smallint    NOT NULL CHECK (probability_percent BETWEEN 0 AND 100),
  updated_at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, stage)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['leads', 'opportunities', 'opportunity_stage_history',
                           'stage_probabilities'] LOOP
    EXECUTE format('ALTER TABLE txn.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE txn.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON txn.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE ON txn.leads, txn.opportunities, txn.stage_probabilities TO crm_app;
GRANT SELECT, INSERT ON txn.opportunity_stage_history TO crm_app;
