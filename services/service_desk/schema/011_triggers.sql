-- The tenant's triggers (docs/service-desk.md, "Triggers"): ordered, as
-- written (JSON), under a version; read by every ticket write.
CREATE TABLE service_desk.triggers (
  tenant_id uuid PRIMARY KEY,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL
);
SELECT service_desk.tenant_rls('service_desk.triggers');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.triggers TO crm_app;
