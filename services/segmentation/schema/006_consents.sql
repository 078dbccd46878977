-- The customers' consents from customer-store's consent.recorded events: the
-- newest recorded status per customer, channel and purpose (what consent.*
-- conditions read, and the objection to profiling that keeps a customer out
-- of behavioural segments).
CREATE TABLE segmentation.consents (
  tenant_id    uuid        NOT NULL,
  customer_id  uuid        NOT NULL,
  channel      text        NOT NULL,
  purpose      text        NOT NULL,
  status       text        NOT NULL,
  recorded_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, customer_id, channel, purpose)
);
ALTER TABLE segmentation.consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE segmentation.consents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON segmentation.consents
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON segmentation.consents TO crm_app;
