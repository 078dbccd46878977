-- Tracking (docs/delivery.md, "Tracking"): the original URLs of a sent
-- email's click links, by index, and what its recipient did with it.
ALTER TABLE delivery.messages
  ADD COLUMN links text[] NOT NULL DEFAULT '{}',
  ADD COLUMN open_count integer NOT NULL DEFAULT 0,
  ADD COLUMN click_count integer NOT NULL DEFAULT 0,
  ADD COLUMN first_open_at timestamptz,
  ADD COLUMN first_click_at timestamptz,
  ADD COLUMN last_open_at timestamptz,
  ADD COLUMN last_click_at timestamptz,
  ADD COLUMN unsubscribed_at timestamptz;
