-- Change tracking for the ERP export (ExportOrders): every INSERT (column
-- defaults) or UPDATE (trigger) of an order stamps it with
--   change_seq  the next value of txn.order_change_seq (a total order of the
--               writes, also within one transaction), and
--   change_xid  the writing transaction's id (xid8: 64 bits, never wraps).
--
-- Why not change_seq alone: sequence values are taken when a row is written
-- but become visible when its transaction commits, so transaction A can take
-- 10, B take 11 and commit first; a reader that saw 11 and resumes "after 11"
-- would skip 10 forever. The export therefore orders by (change_xid,
-- change_seq) and only returns rows whose change_xid is below the xmin of the
-- reading statement's snapshot (pg_snapshot_xmin(pg_current_snapshot())):
-- every transaction with a smaller id has then finished (committed or rolled
-- back), so no row can later appear at or before a position already handed
-- out. A write still in flight holds the export back (never skipped), and
-- an order written again moves to its new position (exported again). See
-- services/transaction/storage/pg_erp_repository.cc.
CREATE SEQUENCE txn.order_change_seq;

ALTER TABLE txn.orders
  ADD COLUMN change_seq bigint,
  ADD COLUMN change_xid xid8;

-- Orders written before this migration: in creation order, stamped with this
-- migration's transaction. Row-level security binds the owner too (FORCE):
-- lifted inside this migration's transaction for the backfill (which must
-- see every tenant's orders), restored before it commits.
ALTER TABLE txn.orders NO FORCE ROW LEVEL SECURITY;
UPDATE txn.orders o SET change_seq = s.seq, change_xid = pg_current_xact_id()
  FROM (SELECT tenant_id, id, nextval('txn.order_change_seq') AS seq
          FROM (SELECT tenant_id, id FROM txn.orders ORDER BY created_at, id) ordered) s
 WHERE o.tenant_id = s.tenant_id AND o.id = s.id;
ALTER TABLE txn.orders FORCE ROW LEVEL SECURITY;

-- INSERT: column defaults (evaluated in C, cheap on bulk ingest); UPDATE: a
-- trigger, so every change moves the order to a new position.
ALTER TABLE txn.orders
  ALTER COLUMN change_seq SET DEFAULT nextval('txn.order_change_seq'),
  ALTER COLUMN change_xid SET DEFAULT pg_current_xact_id(),
  ALTER COLUMN change_seq SET NOT NULL,
  ALTER COLUMN change_xid SET NOT NULL;
ALTER SEQUENCE txn.order_change_seq OWNED BY txn.orders.change_seq;

CREATE FUNCTION txn.stamp_order_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_seq := nextval('txn.order_change_seq');
  NEW.change_xid := pg_current_xact_id();
  RETURN NEW;
END $$;

CREATE TRIGGER orders_stamp_change BEFORE UPDATE ON txn.orders
  FOR EACH ROW EXECUTE FUNCTION txn.stamp_order_change();

-- The export's scan: one tenant, in change order.
CREATE INDEX orders_change_idx ON txn.orders (tenant_id, change_xid, change_seq);

GRANT USAGE ON SEQUENCE txn.order_change_seq TO crm_app;
