-- Macros (docs/service-desk.md, "Macros"): canned replies with template
-- fields and field changes, as written (JSON), under a version.
CREATE TABLE service_desk.macros (
  tenant_id uuid NOT NULL,
  macro_id uuid NOT NULL,
  name text NOT NULL,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, macro_id)
);
CREATE INDEX macros_by_name ON service_desk.macros (tenant_id, name, macro_id);
SELECT service_desk.tenant_rls('service_desk.macros');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.macros TO crm_app;
