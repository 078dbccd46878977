-- Was: the relay may only stamp outbox rows.
-- The platform migrations now own this (libs/outbox/platform_schema.cc,
-- version platform-001, applied before this file). The version stays
-- recorded so its number is never reused.
SELECT 1;
