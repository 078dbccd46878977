-- Interests (docs/personalization.md): searched categories are kept as
-- interactions without a sku, and the topics customers chose themselves.

-- A search.performed event's category path (signal 1, sku ''); '' for the
-- other interactions.
ALTER TABLE personalization.interactions ADD COLUMN topic text NOT NULL DEFAULT '';

-- The topics a customer chose or declined (PATCH /v1/customers/{id}/interests):
-- topics maps each normalized topic to true (interested) or false (declined).
-- version counts the writes; erasure deletes the row.
CREATE TABLE personalization.chosen_topics (
  tenant_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  topics jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, customer_id)
);
SELECT personalization.tenant_rls('personalization.chosen_topics');
CREATE POLICY scheduler_read ON personalization.chosen_topics FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON personalization.chosen_topics TO crm_app;
