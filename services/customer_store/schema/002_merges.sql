-- Merge log: everything needed to undo a merge exactly.
CREATE TABLE customer_store.merges (
  tenant_id            uuid        NOT NULL,
  id                   uuid        NOT NULL,
  survivor_id          uuid        NOT NULL,
  source_id            uuid        NOT NULL,
  source_snapshot      jsonb       NOT NULL,
  survivor_before      jsonb       NOT NULL,
  survivor_after       jsonb       NOT NULL,
  filled_paths         jsonb       NOT NULL,
  moved_interactions   uuid[]      NOT NULL,
  moved_consents       int8[]      NOT NULL,
  added_consents       int8[]      NOT NULL,
  merged_at            timestamptz NOT NULL DEFAULT now(),
  unmerged_at          timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX merges_source_idx ON customer_store.merges (tenant_id, source_id);

ALTER TABLE customer_store.merges ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_store.merges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_store.merges
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE ON customer_store.merges TO crm_app;
