-- A batch's rows are claimed together but sent one after the other
-- (docs/delivery.md, "Sending"): a row of a channel without an idempotency
-- key (email, SMS) is marked just before its provider call, so a claim lost
-- with a stopped sender is unknown only when its send had started; the
-- others are simply retried.
ALTER TABLE delivery.messages ADD COLUMN send_started_at timestamptz;
