-- Stored SLA deadlines (docs/service-desk.md, "SLA sweeper"): per ticket, the
-- next instant its SLA changes by itself (a warning, a deadline, an
-- escalation level; NULL when nothing is due), the policy version it was
-- computed under and the keys of the notices already told
-- (ticket.sla_warning / sla_breached / sla_escalated, each once). Written
-- with every ticket write; the sweeper takes rows whose instant has come.
CREATE TABLE service_desk.ticket_slas (
  tenant_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  policy_version bigint NOT NULL,
  next_due_at timestamptz,
  told text[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, ticket_id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
-- The sweeper's order (every tenant) and a tenant's tickets by deadline.
CREATE INDEX ticket_slas_due ON service_desk.ticket_slas (next_due_at)
  WHERE next_due_at IS NOT NULL;
CREATE INDEX ticket_slas_tenant_due ON service_desk.ticket_slas
  (tenant_id, next_due_at, ticket_id) WHERE next_due_at IS NOT NULL;
SELECT service_desk.tenant_rls('service_desk.ticket_slas');
-- The sweeper finds due rows of every tenant in a transaction that set
-- app.scheduler = 'on'; it takes them tenant by tenant.
CREATE POLICY scheduler_read ON service_desk.ticket_slas FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.ticket_slas TO crm_app;

-- A policy change re-evaluates every ticket of the tenant: the sweeper
-- walks the tenant's tickets in id order from after_ticket_id, then once
-- more from the start, until no ticket is under an older version (or
-- without a row).
CREATE TABLE service_desk.sla_rebases (
  tenant_id uuid PRIMARY KEY,
  policy_version bigint NOT NULL,
  after_ticket_id uuid
);
SELECT service_desk.tenant_rls('service_desk.sla_rebases');
CREATE POLICY scheduler_read ON service_desk.sla_rebases FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.sla_rebases TO crm_app;

-- Tickets written before this table existed have no row: the pass over
-- their tenant's tickets (which takes a ticket without a row as never
-- evaluated) gives them one. Row-level security binds the owner too
-- (FORCE): lifted inside this migration's transaction for the read,
-- restored before it commits.
ALTER TABLE service_desk.tickets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE service_desk.sla_policies NO FORCE ROW LEVEL SECURITY;
ALTER TABLE service_desk.sla_rebases NO FORCE ROW LEVEL SECURITY;
INSERT INTO service_desk.sla_rebases (tenant_id, policy_version)
  SELECT t.tenant_id, coalesce(max(p.version), 0) FROM service_desk.tickets t
    LEFT JOIN service_desk.sla_policies p ON p.tenant_id = t.tenant_id
   GROUP BY t.tenant_id;
ALTER TABLE service_desk.tickets FORCE ROW LEVEL SECURITY;
ALTER TABLE service_desk.sla_policies FORCE ROW LEVEL SECURITY;
ALTER TABLE service_desk.sla_rebases FORCE ROW LEVEL SECURITY;
