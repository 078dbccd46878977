-- The relay may only stamp outbox rows (not rewrite or delete them).
REVOKE UPDATE, DELETE ON txn.outbox FROM crm_app;
GRANT UPDATE (published_at) ON txn.outbox TO crm_app;
