-- Merge and split (docs/service-desk.md, "Merge and split"): a merged
-- ticket is closed and names the ticket its messages, mails and
-- participants went into, so a mail that still names it (its number in a
-- subject, its hidden reference) threads into that one.
ALTER TABLE service_desk.tickets ADD COLUMN merged_into uuid;
-- A split moves a ticket's mails with their messages.
CREATE INDEX ticket_mails_message ON service_desk.ticket_mails (tenant_id, message_id);
