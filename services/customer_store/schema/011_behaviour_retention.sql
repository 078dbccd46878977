-- Per-tenant retention of behaviour events (GET/PATCH /v1/behaviour/settings,
-- app/behaviour_retention.h). A tenant without a row keeps its events until
-- they are erased.
CREATE TABLE customer_store.behaviour_settings (
  tenant_id       uuid        PRIMARY KEY,
  retention_days  int8        NOT NULL CHECK (retention_days BETWEEN 0 AND 3650),
  version         int8        NOT NULL,
  update_time     timestamptz NOT NULL
);
SELECT customer_store.tenant_rls('customer_store.behaviour_settings');
-- The retention job lists the tenants with a retention across tenants
-- (app.maintenance = 'on', as the platform purge); it deletes each tenant's
-- events in that tenant's own transactions.
CREATE POLICY maintenance_read ON customer_store.behaviour_settings FOR SELECT
  USING (current_setting('app.maintenance', true) = 'on');
GRANT SELECT, INSERT, UPDATE ON customer_store.behaviour_settings TO crm_app;

-- The partition drop below checks whether a month holds any row of any
-- tenant: it may read across tenants, as the schema owner only (the app
-- role never reads behaviour rows beyond its tenant), and only while
-- app.maintenance is on. Every partition gets that policy: the existing
-- ones now, new ones from secure_behaviour_partition (010's, renamed, plus
-- this policy).
CREATE FUNCTION customer_store.allow_behaviour_maintenance_read(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format($p$CREATE POLICY owner_maintenance_read ON customer_store.%I FOR SELECT
                   TO CURRENT_USER USING (current_setting('app.maintenance', true) = 'on')$p$,
                 name);
END $$;
REVOKE ALL ON FUNCTION customer_store.allow_behaviour_maintenance_read(text) FROM PUBLIC;
DO $$
DECLARE part text;
BEGIN
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'customer_store.behaviour_events'::regclass
  LOOP
    PERFORM customer_store.allow_behaviour_maintenance_read(part);
  END LOOP;
END $$;
ALTER FUNCTION customer_store.secure_behaviour_partition(text)
  RENAME TO secure_behaviour_partition_tenant;
CREATE FUNCTION customer_store.secure_behaviour_partition(name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM customer_store.secure_behaviour_partition_tenant(name);
  PERFORM customer_store.allow_behaviour_maintenance_read(name);
END $$;
REVOKE ALL ON FUNCTION customer_store.secure_behaviour_partition(text) FROM PUBLIC;

-- Drops the monthly partitions of behaviour_events that end at or before
-- `before` and hold no row of any tenant (their tenants' retention purged
-- them, or none had events then): the disk space comes back at once, not
-- after vacuum. Only an empty month is locked (ACCESS EXCLUSIVE on the
-- table and the month, at most 2 s of waiting, else it is left for the
-- next round) and checked again under the lock before it is dropped; a
-- month with rows costs one index-free probe and no lock. Runs as the
-- schema owner; the app role may only execute it. Returns how many
-- partitions it dropped.
CREATE FUNCTION customer_store.drop_empty_behaviour_partitions(before timestamptz)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  part text;
  hi timestamptz;
  is_empty boolean;
  dropped int := 0;
BEGIN
  PERFORM set_config('lock_timeout', '2s', true);
  PERFORM set_config('app.maintenance', 'on', true);
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'customer_store.behaviour_events'::regclass
      AND c.relname ~ '^behaviour_events_[0-9]{6}$'
    ORDER BY c.relname
  LOOP
    -- The partition's upper bound: the first instant of the next month, UTC.
    hi := (to_date(substr(part, 18) || '01', 'YYYYMMDD') + interval '1 month') AT TIME ZONE 'UTC';
    CONTINUE WHEN hi > before;
    EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM customer_store.%I)', part) INTO is_empty;
    CONTINUE WHEN NOT is_empty;
    BEGIN
      EXECUTE format('LOCK TABLE customer_store.behaviour_events, customer_store.%I '
                     'IN ACCESS EXCLUSIVE MODE', part);
      EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM customer_store.%I)', part) INTO is_empty;
      IF is_empty THEN
        EXECUTE format('DROP TABLE customer_store.%I', part);
        dropped := dropped + 1;
      END IF;
    EXCEPTION WHEN lock_not_available THEN
      NULL;  -- busy: the next round
    END;
  END LOOP;
  PERFORM set_config('app.maintenance', '', true);
  RETURN dropped;
END $$;
REVOKE ALL ON FUNCTION customer_store.drop_empty_behaviour_partitions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_store.drop_empty_behaviour_partitions(timestamptz) TO crm_app;
