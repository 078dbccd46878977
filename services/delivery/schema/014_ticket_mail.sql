-- Mail of the service desk (docs/delivery.md, "Service desk mail"): a
-- ticket's public reply or auto-reply, read from the desk when it is sent
-- (its content is the desk's, not a template).
ALTER TABLE delivery.messages
  ADD COLUMN ticket_id uuid,
  ADD COLUMN ticket_mail_id uuid;
