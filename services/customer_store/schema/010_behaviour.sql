-- Behaviour events (TrackEvents): append-only, partitioned by month of
-- occurred_at (UTC), so old months are detached / dropped for retention
-- without touching the others. Raw IP addresses and user agents are never
-- stored: ip_prefix is the truncated address (IPv4 /24, IPv6 /48) and
-- device_class the parsed class (crm.customer_store.v1.DeviceClass).
-- customer_id is the customer the event was resolved to when it was
-- tracked (NULL: anonymous); visitor_id the anonymous visitor id ('' when
-- none). A visitor's anonymous events count for the customer it is linked
-- to (visitor_links) at read time: the rows themselves never change.
CREATE TABLE customer_store.behaviour_events (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  occurred_at   timestamptz NOT NULL,
  received_at   timestamptz NOT NULL,
  type          text        NOT NULL,
  customer_id   uuid,
  visitor_id    text        NOT NULL DEFAULT '',
  properties    jsonb       NOT NULL DEFAULT '{}',
  ip_prefix     text        NOT NULL DEFAULT '',
  device_class  smallint    NOT NULL DEFAULT 0
) PARTITION BY RANGE (occurred_at);
CREATE INDEX behaviour_events_customer_idx
  ON customer_store.behaviour_events (tenant_id, customer_id, occurred_at DESC)
  WHERE customer_id IS NOT NULL;
CREATE INDEX behaviour_events_visitor_idx
  ON customer_store.behaviour_events (tenant_id, visitor_id, occurred_at DESC)
  WHERE visitor_id <> '';
-- Every partition gets the parent's row-level security and grants too, so
-- it is tenant-scoped also when named directly (defence in depth: the app
-- reaches the rows through the parent).
CREATE FUNCTION customer_store.secure_behaviour_partition(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format('ALTER TABLE customer_store.%I ENABLE ROW LEVEL SECURITY', name);
  EXECUTE format('ALTER TABLE customer_store.%I FORCE ROW LEVEL SECURITY', name);
  EXECUTE format($p$CREATE POLICY tenant_isolation ON customer_store.%I
                   USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                   WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$,
                 name);
  EXECUTE format('GRANT SELECT, INSERT, DELETE ON customer_store.%I TO crm_app', name);
END $$;
REVOKE ALL ON FUNCTION customer_store.secure_behaviour_partition(text) FROM PUBLIC;

-- Safety net: a row whose month has no partition yet (the writer creates
-- the month's partition first, see ensure_behaviour_partitions).
CREATE TABLE customer_store.behaviour_events_default
  PARTITION OF customer_store.behaviour_events DEFAULT;
SELECT customer_store.secure_behaviour_partition('behaviour_events_default');

-- Creates the monthly partitions covering [from_ts, to_ts] that are
-- missing (at most 24 months per call), moving rows the default partition
-- holds for such a month into it. Runs as the schema owner (the app role
-- may not create tables); the app role may only execute it. Returns how
-- many partitions it created.
CREATE FUNCTION customer_store.ensure_behaviour_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  m timestamp;
  last timestamp;
  lo timestamptz;
  hi timestamptz;
  name text;
  created int := 0;
BEGIN
  m := date_trunc('month', from_ts AT TIME ZONE 'UTC');
  last := date_trunc('month', to_ts AT TIME ZONE 'UTC');
  IF last < m OR last > m + interval '24 months' THEN
    RAISE EXCEPTION 'ensure_behaviour_partitions: bad range';
  END IF;
  WHILE m <= last LOOP
    name := 'behaviour_events_' || to_char(m, 'YYYYMM');
    IF to_regclass('customer_store.' || name) IS NULL THEN
      PERFORM pg_advisory_xact_lock(hashtext('customer_store.behaviour_events'));
      IF to_regclass('customer_store.' || name) IS NULL THEN
        lo := m AT TIME ZONE 'UTC';
        hi := (m + interval '1 month') AT TIME ZONE 'UTC';
        -- The default partition's rows of that month (every tenant's: the
        -- owner is exempt from row-level security while it is not forced,
        -- inside this transaction only) move to the new partition.
        CREATE TEMP TABLE IF NOT EXISTS behaviour_moved
          (LIKE customer_store.behaviour_events) ON COMMIT DROP;
        ALTER TABLE customer_store.behaviour_events_default NO FORCE ROW LEVEL SECURITY;
        WITH d AS (DELETE FROM customer_store.behaviour_events_default
                   WHERE occurred_at >= lo AND occurred_at < hi RETURNING *)
        INSERT INTO behaviour_moved SELECT * FROM d;
        EXECUTE format('CREATE TABLE customer_store.%I PARTITION OF '
                       'customer_store.behaviour_events FOR VALUES FROM (%L) TO (%L)',
                       name, lo, hi);
        EXECUTE format('INSERT INTO customer_store.%I SELECT * FROM behaviour_moved', name);
        ALTER TABLE customer_store.behaviour_events_default FORCE ROW LEVEL SECURITY;
        PERFORM customer_store.secure_behaviour_partition(name);
        DELETE FROM behaviour_moved;
        created := created + 1;
      END IF;
    END IF;
    m := m + interval '1 month';
  END LOOP;
  RETURN created;
END $$;
REVOKE ALL ON FUNCTION customer_store.ensure_behaviour_partitions(timestamptz, timestamptz)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_store.ensure_behaviour_partitions(timestamptz, timestamptz)
  TO crm_app;
-- The months around the migration exist from the start.
SELECT customer_store.ensure_behaviour_partitions(now() - interval '3 months',
                                                  now() + interval '2 months');

-- Anonymous visitor ids linked to a customer (IdentifyCustomer): an
-- identity of kind VISITOR. No foreign key: a merge deletes the source's
-- row but its links stay (read through the merge, like purchases); erasure
-- deletes the links of the erased customers.
CREATE TABLE customer_store.visitor_links (
  tenant_id    uuid        NOT NULL,
  visitor_id   text        NOT NULL,
  customer_id  uuid        NOT NULL,
  linked_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, visitor_id)
);
CREATE INDEX visitor_links_customer_idx ON customer_store.visitor_links (tenant_id, customer_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['behaviour_events', 'visitor_links'] LOOP
    EXECUTE format('ALTER TABLE customer_store.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE customer_store.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON customer_store.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;

-- Append-only: no UPDATE; DELETE for erasure only (the partitions: the
-- same, secure_behaviour_partition).
GRANT SELECT, INSERT, DELETE ON customer_store.behaviour_events, customer_store.visitor_links
  TO crm_app;
