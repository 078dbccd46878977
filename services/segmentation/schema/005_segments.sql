-- Live segments: the saved definitions and their members. A membership row
-- is inserted or deleted in the transaction that publishes its
-- segment.entered / segment.exited event, and only when it really changes,
-- so every real change is published exactly once (also across restarts and
-- replicas).
CREATE TABLE segmentation.segments (
  tenant_id     uuid        NOT NULL,
  segment_id    text        NOT NULL,
  display_name  text        NOT NULL,
  description   text        NOT NULL,
  expression    text        NOT NULL,
  version       bigint      NOT NULL,  -- +1 per changed expression
  revision      bigint      NOT NULL,  -- +1 per change: the etag
  refs          text[]      NOT NULL,  -- segment ids read by in_segment()
  reads_time    boolean     NOT NULL,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, segment_id)
);

CREATE TABLE segmentation.memberships (
  tenant_id        uuid        NOT NULL,
  segment_id       text        NOT NULL,
  customer_id      uuid        NOT NULL,
  segment_version  bigint      NOT NULL,  -- the version the customer entered under
  entered_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, segment_id, customer_id)
);
CREATE INDEX memberships_customer_idx ON segmentation.memberships (tenant_id, customer_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['segments', 'memberships'] LOOP
    EXECUTE format('ALTER TABLE segmentation.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE segmentation.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON segmentation.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON segmentation.segments, segmentation.memberships TO crm_app;
-- At start the service loads every tenant that has segments: it lists them
-- across tenants in a transaction that set app.scheduler = 'on' (read only).
CREATE POLICY scheduler_read ON segmentation.segments FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
