-- The audit trail is append-only for the app role.
REVOKE UPDATE, DELETE ON customer_store.audit_log FROM crm_app;
