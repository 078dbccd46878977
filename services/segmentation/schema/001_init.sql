-- segmentation schema (engine 2): the tenant's fitted models. The platform's
-- tables come from the platform migrations (libs/outbox/platform_schema.cc).
CREATE TABLE segmentation.clv_models (
  tenant_id  uuid        PRIMARY KEY,
  model      jsonb       NOT NULL,  -- storage/model_codec.cc
  fitted_at  timestamptz NOT NULL
);
ALTER TABLE segmentation.clv_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE segmentation.clv_models FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON segmentation.clv_models
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE ON segmentation.clv_models TO crm_app;
