-- Was: idempotency keys remember the request's fingerprint and refusal.
-- The platform migrations now own this (libs/outbox/platform_schema.cc,
-- version platform-001, applied before this file). The version stays
-- recorded so its number is never reused.
SELECT 1;
