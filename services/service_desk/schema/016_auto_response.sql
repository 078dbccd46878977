-- Auto-response (docs/service-desk.md, "Auto-response"): the intent
-- classifier's labels a macro answers (one macro a label), and the mail
-- that answers a question with that macro.
CREATE TABLE service_desk.macro_intents (
  tenant_id uuid NOT NULL,
  label text NOT NULL,
  macro_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, label),
  FOREIGN KEY (tenant_id, macro_id) REFERENCES service_desk.macros (tenant_id, macro_id)
    ON DELETE CASCADE
);
CREATE INDEX macro_intents_by_macro ON service_desk.macro_intents (tenant_id, macro_id);
SELECT service_desk.tenant_rls('service_desk.macro_intents');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.macro_intents TO crm_app;

ALTER TABLE service_desk.outbound_mails
  DROP CONSTRAINT outbound_mails_kind_check,
  ADD CONSTRAINT outbound_mails_kind_check
    CHECK (kind IN ('reply', 'auto_reply', 'auto_response'));
-- The report's reads: a ticket's auto-response.
CREATE INDEX outbound_mails_auto_responses ON service_desk.outbound_mails (tenant_id, ticket_id)
  WHERE kind = 'auto_response';
