-- Tickets (docs/service-desk.md, "Tickets"): the ticket, its thread of
-- messages (the requester's, agents' public replies and internal notes) and
-- the audit of every field change. Numbers are per tenant.
CREATE TABLE service_desk.ticket_numbers (
  tenant_id uuid PRIMARY KEY,
  last_number bigint NOT NULL
);
SELECT service_desk.tenant_rls('service_desk.ticket_numbers');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.ticket_numbers TO crm_app;

CREATE TABLE service_desk.tickets (
  tenant_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  number bigint NOT NULL,
  customer_id uuid NOT NULL,
  requester_email text NOT NULL DEFAULT '',
  subject text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'web_form', 'chat', 'phone', 'api')),
  status text NOT NULL CHECK (status IN ('new', 'open', 'pending_customer',
                                         'pending_third_party', 'on_hold', 'solved', 'closed')),
  priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  type text NOT NULL DEFAULT '',
  tags text[] NOT NULL DEFAULT '{}',
  queue text NOT NULL DEFAULT '',
  assignee text NOT NULL DEFAULT '',
  custom_fields jsonb NOT NULL DEFAULT '{}',
  version bigint NOT NULL,
  message_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  solved_at timestamptz,
  PRIMARY KEY (tenant_id, ticket_id),
  UNIQUE (tenant_id, number)
);
-- The lists: newest first, alone or by status, queue, assignee or customer.
CREATE INDEX tickets_recent ON service_desk.tickets (tenant_id, created_at DESC, ticket_id DESC);
CREATE INDEX tickets_status ON service_desk.tickets
  (tenant_id, status, created_at DESC, ticket_id DESC);
CREATE INDEX tickets_queue ON service_desk.tickets
  (tenant_id, queue, created_at DESC, ticket_id DESC) WHERE queue <> '';
CREATE INDEX tickets_assignee ON service_desk.tickets
  (tenant_id, assignee, created_at DESC, ticket_id DESC) WHERE assignee <> '';
CREATE INDEX tickets_customer ON service_desk.tickets
  (tenant_id, customer_id, created_at DESC, ticket_id DESC);
SELECT service_desk.tenant_rls('service_desk.tickets');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.tickets TO crm_app;

CREATE TABLE service_desk.ticket_messages (
  tenant_id uuid NOT NULL,
  message_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('public_reply', 'internal_note', 'customer')),
  author text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, message_id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
CREATE INDEX ticket_messages_thread ON service_desk.ticket_messages
  (tenant_id, ticket_id, created_at, message_id);
SELECT service_desk.tenant_rls('service_desk.ticket_messages');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.ticket_messages TO crm_app;

CREATE TABLE service_desk.ticket_changes (
  tenant_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  seq bigint NOT NULL,
  field text NOT NULL,
  old_value text NOT NULL,
  new_value text NOT NULL,
  actor text NOT NULL,
  changed_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, ticket_id, seq),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
SELECT service_desk.tenant_rls('service_desk.ticket_changes');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.ticket_changes TO crm_app;
