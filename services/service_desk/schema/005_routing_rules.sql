-- The tenant's routing rules (docs/service-desk.md, "Routing"): ordered,
-- as written (JSON), under a version.
CREATE TABLE service_desk.routing_rules (
  tenant_id uuid PRIMARY KEY,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL
);
SELECT service_desk.tenant_rls('service_desk.routing_rules');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.routing_rules TO crm_app;
