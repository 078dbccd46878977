-- A tenant's delivery policy (docs/delivery.md, "Frequency caps and quiet
-- hours"): frequency caps and quiet hours for marketing messages.
CREATE TABLE delivery.policies (
  tenant_id uuid PRIMARY KEY,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL
);
SELECT delivery.tenant_rls('delivery.policies');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.policies TO crm_app;
