-- What orders and the catalog say about products, for the order conditions'
-- sku and category filters (bought(category = "Music", 90d)):
--   purchases.skus    the skus of the order's lines not wholly returned
--                     (from the order.* events' lines);
--   products          each catalog product's category path, the newest
--                     version of product.created / product.updated.
-- Orders kept before this migration have no skus until their next event.
ALTER TABLE segmentation.purchases ADD COLUMN skus text[] NOT NULL DEFAULT '{}';

CREATE TABLE segmentation.products (
  tenant_id      uuid   NOT NULL,
  sku            text   NOT NULL,
  version        bigint NOT NULL,
  category_path  text[] NOT NULL,
  PRIMARY KEY (tenant_id, sku)
);
ALTER TABLE segmentation.products ENABLE ROW LEVEL SECURITY;
ALTER TABLE segmentation.products FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON segmentation.products
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON segmentation.products TO crm_app;
