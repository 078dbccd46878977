-- Outbound mail (docs/service-desk.md, "Outbound email", "Auto-replies",
-- "Loop safety").

-- A mailbox's display name and its auto-reply.
ALTER TABLE service_desk.mailboxes
  ADD COLUMN name text NOT NULL DEFAULT '',
  ADD COLUMN auto_reply boolean NOT NULL DEFAULT false,
  ADD COLUMN auto_reply_subject text NOT NULL DEFAULT '',
  ADD COLUMN auto_reply_body text NOT NULL DEFAULT '';

-- Where an answer to a received mail goes (its Reply-To, else its From).
ALTER TABLE service_desk.ticket_mails ADD COLUMN reply_addr text NOT NULL DEFAULT '';

-- Every mail the desk sends, as written with its ticket's change: delivery
-- reads it when it sends it (GetOutboundMail), named by the
-- ticket.mail_queued event of the same transaction.
CREATE TABLE service_desk.outbound_mails (
  tenant_id uuid NOT NULL,
  mail_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  ticket_message_id uuid,
  mailbox_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('reply', 'auto_reply')),
  from_addr text NOT NULL,
  from_name text NOT NULL,
  to_addr text NOT NULL,
  to_name text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  message_id text NOT NULL,
  in_reply_to text NOT NULL,
  references_ids text[] NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, mail_id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
SELECT service_desk.tenant_rls('service_desk.outbound_mails');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.outbound_mails TO crm_app;

-- The last auto-reply of a mailbox to an address: one per 24 hours.
CREATE TABLE service_desk.auto_replies (
  tenant_id uuid NOT NULL,
  mailbox_id uuid NOT NULL,
  address text NOT NULL,
  sent_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, mailbox_id, address)
);
SELECT service_desk.tenant_rls('service_desk.auto_replies');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.auto_replies TO crm_app;

-- Senders whose mail to a mailbox came in a burst: quarantined until.
CREATE TABLE service_desk.mail_quarantine (
  tenant_id uuid NOT NULL,
  mailbox_id uuid NOT NULL,
  address text NOT NULL,
  until timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, mailbox_id, address)
);
SELECT service_desk.tenant_rls('service_desk.mail_quarantine');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.mail_quarantine TO crm_app;

-- The latest mail of a sender through a mailbox, whatever its subject.
CREATE INDEX ticket_mails_from ON service_desk.ticket_mails
  (tenant_id, mailbox_id, from_addr, received_at DESC) WHERE NOT outbound;
