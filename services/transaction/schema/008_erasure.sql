-- (This file also created txn.processed_events; the platform migrations
-- own it now, with tenant_id under row-level security.)

-- Erasure finds a customer's leads by customer_id (opportunities have
-- opportunities_customer_idx).
CREATE INDEX leads_customer_idx ON txn.leads (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
