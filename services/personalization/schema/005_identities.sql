-- Histories that move (docs/personalization.md, "Identities"): a visitor
-- identified as a customer (customer.identified), a customer merged into
-- another (customer.merged) and back (customer.unmerged).

-- The customer whose history the row was in before a merge moved it ('' when
-- it never moved, or came from an anonymous visitor): an unmerge moves back
-- exactly the rows that came from the restored customer.
ALTER TABLE personalization.interactions ADD COLUMN origin text NOT NULL DEFAULT '';

-- A visitor's customer (the newest link wins): the visitor's later
-- anonymous behaviour is stored as the customer's.
CREATE TABLE personalization.visitor_links (
  tenant_id uuid NOT NULL,
  visitor_id text NOT NULL,
  customer_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, visitor_id)
);
CREATE INDEX visitor_links_customer ON personalization.visitor_links (tenant_id, customer_id);
SELECT personalization.tenant_rls('personalization.visitor_links');
GRANT SELECT, INSERT, UPDATE, DELETE ON personalization.visitor_links TO crm_app;
