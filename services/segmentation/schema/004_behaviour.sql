-- Behaviour facts from customer-store's behaviour.* events, as segments read
-- them (domain/behaviour.h): type, time and the properties the catalog
-- declares; no URL, title, query, device or IP. One row per event id.
-- subject_id is the customer the event is about: the one it names, or for an
-- anonymous event the customer its visitor was identified as
-- (customer.identified), NULL while anonymous; customer_id is the customer it
-- counts for now: the survivor of a merge of subject_id, else subject_id
-- (as purchases.customer_id / placed_by). visitor_id is '' when none.
-- Retention: segment windows reach back at most 3650 days (kMaxWindow), so
-- older rows are never read by a segment; nothing purges them yet.
CREATE TABLE segmentation.behaviour (
  tenant_id      uuid             NOT NULL,
  event_id       uuid             NOT NULL,
  customer_id    uuid,
  subject_id     uuid,
  visitor_id     text             NOT NULL DEFAULT '',
  type           text             NOT NULL,
  occurred_at    timestamptz      NOT NULL,
  sku            text,
  category_path  text[],
  value          double precision,
  currency_code  char(3),
  quantity       bigint,
  campaign       text,             -- utm_campaign
  PRIMARY KEY (tenant_id, event_id),
  CHECK ((customer_id IS NULL) = (subject_id IS NULL))
);
-- Per customer (reads, merges, erasure), in time order.
CREATE INDEX behaviour_customer_idx ON segmentation.behaviour (tenant_id, customer_id, occurred_at)
  WHERE customer_id IS NOT NULL;
-- Per subject (unmerge, erasure of a merged source).
CREATE INDEX behaviour_subject_idx ON segmentation.behaviour (tenant_id, subject_id)
  WHERE subject_id IS NOT NULL;
-- Per visitor: the anonymous rows stitched by customer.identified.
CREATE INDEX behaviour_visitor_idx ON segmentation.behaviour (tenant_id, visitor_id)
  WHERE customer_id IS NULL;

-- Visitors identified as a customer (customer.identified): the first link of
-- a visitor stays. Anonymous events of a linked visitor count for its
-- customer, also those that arrive after the link.
CREATE TABLE segmentation.visitor_links (
  tenant_id    uuid NOT NULL,
  visitor_id   text NOT NULL,
  customer_id  uuid NOT NULL,
  PRIMARY KEY (tenant_id, visitor_id)
);
CREATE INDEX visitor_links_customer_idx ON segmentation.visitor_links (tenant_id, customer_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['behaviour', 'visitor_links'] LOOP
    EXECUTE format('ALTER TABLE segmentation.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE segmentation.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON segmentation.%I
                     USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
                     WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON segmentation.behaviour, segmentation.visitor_links
  TO crm_app;
