-- The tenant's SLA policy (docs/service-desk.md, "SLA on tickets"): business
-- hours, targets by priority, the statuses that pause the clock, the
-- warning lead and escalation levels, as written (JSON), under a version.
CREATE TABLE service_desk.sla_policies (
  tenant_id uuid PRIMARY KEY,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL
);
SELECT service_desk.tenant_rls('service_desk.sla_policies');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.sla_policies TO crm_app;
