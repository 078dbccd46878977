-- Campaigns (docs/delivery.md, "Campaigns"): the definition as written
-- (checked by the engine), its state and its expansion into ledger rows.
CREATE TABLE delivery.campaigns (
  tenant_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  definition jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('draft', 'scheduled', 'running', 'paused', 'completed',
                                       'cancelled')),
  version bigint NOT NULL,
  start_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  -- The audience's cursor, whether every member has its ledger row, how
  -- many rows it has, and the pace of a throttled campaign: the row after
  -- `paced` rows scheduled from `pace_start` is due 1/throttle later.
  expansion_cursor text NOT NULL DEFAULT '',
  expanded boolean NOT NULL DEFAULT false,
  targeted bigint NOT NULL DEFAULT 0,
  pace_start timestamptz,
  paced bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, campaign_id)
);
CREATE INDEX campaigns_active ON delivery.campaigns (state, start_at)
  WHERE state IN ('scheduled', 'running');
SELECT delivery.tenant_rls('delivery.campaigns');
-- The campaign runner finds due and running campaigns of every tenant in a
-- transaction that set app.scheduler = 'on'; it changes them tenant by tenant.
CREATE POLICY scheduler_read ON delivery.campaigns FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.campaigns TO crm_app;

ALTER TABLE delivery.messages ADD COLUMN campaign_id uuid,
  ADD COLUMN variant_id text NOT NULL DEFAULT '';
ALTER TABLE delivery.messages DROP CONSTRAINT messages_state_check;
ALTER TABLE delivery.messages ADD CONSTRAINT messages_state_check
  CHECK (state IN ('queued', 'sending', 'retrying', 'sent', 'suppressed', 'failed', 'unknown',
                   'cancelled'));
CREATE INDEX messages_campaign ON delivery.messages (tenant_id, campaign_id, state)
  WHERE campaign_id IS NOT NULL;
