-- The tenant's settings of the segmentation engine (UpdateSegmentationSettings;
-- a tenant without a row has the defaults). profiling_requires_opt_in: only
-- customers who opted in to purpose profiling get behavioural segments and
-- RFM / model scores. time_zone: the tenant's IANA zone (purchase days of
-- live features without a model; the default of refits and summaries).
CREATE TABLE segmentation.settings (
  tenant_id                  uuid        NOT NULL PRIMARY KEY,
  profiling_requires_opt_in  boolean     NOT NULL,
  time_zone                  text        NOT NULL,
  version                    bigint      NOT NULL,
  updated_at                 timestamptz NOT NULL
);
ALTER TABLE segmentation.settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE segmentation.settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON segmentation.settings
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE ON segmentation.settings TO crm_app;
