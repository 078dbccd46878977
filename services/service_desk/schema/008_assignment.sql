-- Assignment (docs/service-desk.md, "Assignment"): the tenant's agents —
-- the queues they take ('{}': every queue), their skills, capacity (open
-- tickets at most) and availability — and the agent each queue's last
-- round-robin ticket went to.
CREATE TABLE service_desk.agents (
  tenant_id uuid NOT NULL,
  agent_id text NOT NULL,
  name text NOT NULL,
  queues text[] NOT NULL,
  skills text[] NOT NULL,
  capacity int NOT NULL CHECK (capacity BETWEEN 1 AND 1000),
  available boolean NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL,
  last_assigned_at timestamptz,
  PRIMARY KEY (tenant_id, agent_id)
);
SELECT service_desk.tenant_rls('service_desk.agents');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.agents TO crm_app;

CREATE TABLE service_desk.assignment_cursors (
  tenant_id uuid NOT NULL,
  queue text NOT NULL,
  last_agent_id text NOT NULL,
  PRIMARY KEY (tenant_id, queue)
);
SELECT service_desk.tenant_rls('service_desk.assignment_cursors');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.assignment_cursors TO crm_app;

-- Each agent's open tickets (its load against its capacity).
CREATE INDEX tickets_open_by_assignee ON service_desk.tickets (tenant_id, assignee)
  WHERE assignee <> '' AND status NOT IN ('solved', 'closed');
