-- Erasure also removes merge-log snapshots of the customer; the relay may
-- only stamp outbox rows (not rewrite or delete them).
GRANT DELETE ON customer_store.merges TO crm_app;
REVOKE UPDATE, DELETE ON customer_store.outbox FROM crm_app;
GRANT UPDATE (published_at) ON customer_store.outbox TO crm_app;
