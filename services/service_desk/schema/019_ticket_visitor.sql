-- The web call center's context (docs/service-desk.md, "Web call center
-- context"): a ticket opened from the site (a chat, a call request) names
-- the visitor id the site tracks behaviour events with; '' for others.
ALTER TABLE service_desk.tickets
  ADD COLUMN visitor_id text NOT NULL DEFAULT ''
    CHECK (visitor_id ~ '^[A-Za-z0-9._:-]{0,128}$');
