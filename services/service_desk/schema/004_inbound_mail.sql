-- Inbound mail (docs/service-desk.md, "Inbound email").
-- The desk's mailboxes: where mail arrives, the domains the tenant sends
-- from (the loop rules' own addresses) and the threading windows.
CREATE TABLE service_desk.mailboxes (
  tenant_id uuid NOT NULL,
  mailbox_id uuid NOT NULL,
  address text NOT NULL,
  own_domains text[] NOT NULL DEFAULT '{}',
  reopen_window_s bigint NOT NULL DEFAULT 1209600,
  same_subject_window_s bigint NOT NULL DEFAULT 0,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, mailbox_id),
  UNIQUE (tenant_id, address)
);
SELECT service_desk.tenant_rls('service_desk.mailboxes');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.mailboxes TO crm_app;

-- An address routes to one mailbox of one tenant, across tenants: what a
-- listener reads before it knows the tenant, and what makes a second
-- claim of an address fail. Holds no tenant data but the pairing, so it
-- has no row-level security; rows are only ever inserted by the mailbox's
-- creation (in its tenant's transaction).
CREATE TABLE service_desk.mailbox_routes (
  address text PRIMARY KEY,
  tenant_id uuid NOT NULL,
  mailbox_id uuid NOT NULL
);
GRANT SELECT, INSERT ON service_desk.mailbox_routes TO crm_app;

-- A ticket opened by a reply to a closed (or long solved) one names it; a
-- message that came or goes as mail keeps the mail's identity.
ALTER TABLE service_desk.tickets ADD COLUMN follow_up_of uuid;
ALTER TABLE service_desk.ticket_messages ADD COLUMN mail_id text NOT NULL DEFAULT '';

-- Every mail of a ticket, received (its identity: the Message-ID, or one
-- derived from its content) or sent (our Message-ID): the threading index.
-- Only a mail's own id is kept, never the ids it refers to.
CREATE TABLE service_desk.ticket_mails (
  tenant_id uuid NOT NULL,
  mailbox_id uuid NOT NULL,
  mail_id text NOT NULL,
  ticket_id uuid NOT NULL,
  message_id uuid NOT NULL,
  outbound boolean NOT NULL,
  from_addr text NOT NULL,
  thread_subject text NOT NULL,
  machine text NOT NULL DEFAULT '',
  rule text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, mailbox_id, mail_id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
CREATE INDEX ticket_mails_id ON service_desk.ticket_mails (tenant_id, mail_id);
CREATE INDEX ticket_mails_ticket ON service_desk.ticket_mails (tenant_id, ticket_id, received_at);
CREATE INDEX ticket_mails_sender ON service_desk.ticket_mails
  (tenant_id, mailbox_id, from_addr, thread_subject, received_at DESC) WHERE NOT outbound;
SELECT service_desk.tenant_rls('service_desk.ticket_mails');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.ticket_mails TO crm_app;

-- Who may thread by the subject's ticket number: everyone a mail of the
-- ticket named (From, Reply-To, To, Cc; our own addresses left out).
CREATE TABLE service_desk.ticket_participants (
  tenant_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  address text NOT NULL,
  PRIMARY KEY (tenant_id, ticket_id, address),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
SELECT service_desk.tenant_rls('service_desk.ticket_participants');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.ticket_participants TO crm_app;
