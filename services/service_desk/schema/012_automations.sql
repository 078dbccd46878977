-- Time-based automations (docs/service-desk.md, "Automations"): the
-- instant of each ticket's last status move (what "hours since the status
-- changed" counts from; existing tickets: their last status row in the
-- audit, else their creation), the tenant's automations (one JSON
-- document under a version, like routing rules and triggers) and when each
-- last fired on each ticket (an automation fires again on a ticket only
-- after the instant it counts from has moved past its last firing).
ALTER TABLE service_desk.tickets ADD COLUMN status_changed_at timestamptz;
UPDATE service_desk.tickets t SET status_changed_at = coalesce(
  (SELECT max(c.changed_at) FROM service_desk.ticket_changes c
    WHERE c.tenant_id = t.tenant_id AND c.ticket_id = t.ticket_id AND c.field = 'status'),
  t.created_at);
ALTER TABLE service_desk.tickets ALTER COLUMN status_changed_at SET NOT NULL;

CREATE TABLE service_desk.automations (
  tenant_id uuid PRIMARY KEY,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL
);
SELECT service_desk.tenant_rls('service_desk.automations');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.automations TO crm_app;
-- The automation sweeper finds the tenants with automations across
-- tenants (app.scheduler = 'on'); it takes their tickets tenant by tenant.
CREATE POLICY scheduler_read ON service_desk.automations FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');

CREATE TABLE service_desk.automation_firings (
  tenant_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  automation_id text NOT NULL,
  fired_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, ticket_id, automation_id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
SELECT service_desk.tenant_rls('service_desk.automation_firings');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.automation_firings TO crm_app;
