-- The audit trail is append-only for the app role.
REVOKE UPDATE ON access.audit_log FROM crm_app;
