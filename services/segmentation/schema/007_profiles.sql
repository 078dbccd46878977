-- The customers' profile fields and custom attributes from customer-store's
-- customer.created / customer.updated events: the newest version per
-- customer, keyed by the segment language's names ({"profile.country": "CH",
-- "attr.plan": "gold", "attr.seats": 12, "attr.vip": true}), what profile.*
-- and attr.* conditions read. Erased with the customer.
CREATE TABLE segmentation.profiles (
  tenant_id    uuid   NOT NULL,
  customer_id  uuid   NOT NULL,
  version      bigint NOT NULL,
  fields       jsonb  NOT NULL,
  PRIMARY KEY (tenant_id, customer_id)
);
ALTER TABLE segmentation.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE segmentation.profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON segmentation.profiles
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON segmentation.profiles TO crm_app;
