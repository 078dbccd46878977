-- Creating a tenant needs app.platform = 'on': the tenant-isolation policy
-- only reads, and nothing updates tenants.
DROP POLICY tenant_isolation ON access.tenants;
CREATE POLICY tenant_isolation ON access.tenants FOR SELECT
  USING (id = nullif(current_setting('app.tenant_id', true), '')::uuid);
REVOKE UPDATE ON access.tenants FROM crm_app;
