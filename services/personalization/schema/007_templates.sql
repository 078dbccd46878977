-- Message templates (docs/personalization.md, "Message templates"): the
-- definition as written (checked and normalized by the engine).
CREATE TABLE personalization.templates (
  tenant_id uuid NOT NULL,
  template_id text NOT NULL,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, template_id)
);

SELECT personalization.tenant_rls('personalization.templates');
CREATE POLICY scheduler_read ON personalization.templates FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON personalization.templates TO crm_app;
