-- Attachments (docs/service-desk.md, "Attachments"): the bytes once per
-- tenant by their SHA-256 (content-addressed: two uploads of one file, or
-- one file mailed twice, share a row), and each message's files naming
-- them. An upload is on no message (message_id NULL) until a message
-- takes it.
CREATE TABLE service_desk.attachment_contents (
  tenant_id uuid NOT NULL,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size bigint NOT NULL CHECK (size >= 0),
  content bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, sha256)
);
-- The bytes are stored as they are (mostly compressed already).
ALTER TABLE service_desk.attachment_contents ALTER COLUMN content SET STORAGE EXTERNAL;
SELECT service_desk.tenant_rls('service_desk.attachment_contents');
GRANT SELECT, INSERT ON service_desk.attachment_contents TO crm_app;

CREATE TABLE service_desk.attachments (
  tenant_id uuid NOT NULL,
  attachment_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  message_id uuid,
  filename text NOT NULL CHECK (filename <> ''),
  content_type text NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  sha256 text NOT NULL,
  uploaded_by text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, attachment_id),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, message_id) REFERENCES service_desk.ticket_messages (tenant_id, message_id)
    ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, sha256) REFERENCES service_desk.attachment_contents (tenant_id, sha256)
);
CREATE INDEX attachments_message ON service_desk.attachments (tenant_id, message_id, created_at)
  WHERE message_id IS NOT NULL;
CREATE INDEX attachments_pending ON service_desk.attachments (tenant_id, ticket_id, sha256)
  WHERE message_id IS NULL;
CREATE INDEX attachments_sha256 ON service_desk.attachments (tenant_id, sha256);
SELECT service_desk.tenant_rls('service_desk.attachments');
GRANT SELECT, INSERT, UPDATE ON service_desk.attachments TO crm_app;
