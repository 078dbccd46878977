-- Bulk import batches: the stored report makes a batch id resumable (a
-- completed batch answers with its report and loads nothing again).
CREATE TABLE customer_store.import_batches (
  tenant_id     uuid        NOT NULL,
  batch_id      text        NOT NULL,
  report        jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  PRIMARY KEY (tenant_id, batch_id)
);
ALTER TABLE customer_store.import_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_store.import_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_store.import_batches
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE ON customer_store.import_batches TO crm_app;
-- Import rows are staged in temporary tables: PostgreSQL grants TEMPORARY
-- on every database to PUBLIC by default, which the app role relies on.
