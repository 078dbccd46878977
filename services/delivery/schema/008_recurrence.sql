-- Recurring campaigns (docs/delivery.md, "Recurring campaigns"): the
-- occurrence a campaign is at (its rows' keys of later occurrences end in
-- ":<occurrence>"). The recurrence itself is in the definition.
ALTER TABLE delivery.campaigns ADD COLUMN occurrence integer NOT NULL DEFAULT 0;
