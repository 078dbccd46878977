-- Erased customers' ids (no personal data: the id alone), so that facts about
-- them arriving after the erasure (a later order event, a refund) are
-- dropped instead of re-creating their purchases.
CREATE TABLE customer_store.erasures (
  tenant_id    uuid        NOT NULL,
  customer_id  uuid        NOT NULL,
  erased_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, customer_id)
);
ALTER TABLE customer_store.erasures ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_store.erasures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_store.erasures
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT ON customer_store.erasures TO crm_app;
