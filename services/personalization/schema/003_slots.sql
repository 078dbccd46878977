-- Content slots (docs/personalization.md): one row per slot, its definition
-- (display name, selection, variants with their rules, topics, contents and
-- arms, fallback, holdout) as written, checked and normalized by the engine.
CREATE TABLE personalization.slots (
  tenant_id uuid NOT NULL,
  slot_id text NOT NULL,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, slot_id)
);
SELECT personalization.tenant_rls('personalization.slots');
CREATE POLICY scheduler_read ON personalization.slots FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON personalization.slots TO crm_app;
