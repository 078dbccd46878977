-- Idempotency keys remember the request's fingerprint and a deterministic
-- refusal, so a retry answers exactly what the first call answered.
ALTER TABLE customer_store.idempotency_keys
  ADD COLUMN fingerprint text NOT NULL DEFAULT '',
  ADD COLUMN error_code int,
  ADD COLUMN error_reason text,
  ADD COLUMN error_message text,
  ADD COLUMN error_field text,
  ADD COLUMN response text;
