-- Erasure also removes merge-log snapshots of the customer. (This file also
-- narrowed the outbox grants; the platform migrations own those now.)
GRANT DELETE ON customer_store.merges TO crm_app;
