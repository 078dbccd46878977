-- Events this service has handled (libs/events MarkProcessed), so a
-- customer.erased delivered again (relay republish, consumer restart) is
-- applied once. Ids only: no tenant data, so no row-level security.
CREATE TABLE txn.processed_events (
  consumer      text        NOT NULL,
  event_id      uuid        NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
GRANT SELECT, INSERT ON txn.processed_events TO crm_app;

-- Erasure finds a customer's leads by customer_id (opportunities have
-- opportunities_customer_idx).
CREATE INDEX leads_customer_idx ON txn.leads (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
