-- Returns and refund adjustments reach the purchase projection: the order
-- events carry returned_minor and net_minor (total - returned - refund
-- adjustments). Rows projected before this migration have no returns.
ALTER TABLE customer_store.purchases
  ADD COLUMN returned_minor bigint NOT NULL DEFAULT 0,
  ADD COLUMN net_minor      bigint;
-- Row-level security binds the owner too (FORCE): lifted inside this
-- migration's transaction for the backfill (which must see every tenant's
-- rows), restored before it commits.
ALTER TABLE customer_store.purchases NO FORCE ROW LEVEL SECURITY;
UPDATE customer_store.purchases SET net_minor = total_minor WHERE net_minor IS NULL;
ALTER TABLE customer_store.purchases FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_store.purchases ALTER COLUMN net_minor SET NOT NULL;
