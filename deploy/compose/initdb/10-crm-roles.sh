#!/bin/sh
# Same role layout as deploy/scripts/datastores.sh: crm_owner owns the
# database and runs migrations; crm_app is not an owner, so RLS applies.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_pw="$CRM_OWNER_PASSWORD" -v app_pw="$CRM_APP_PASSWORD" <<'SQL'
CREATE ROLE crm_owner LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS PASSWORD :'owner_pw';
CREATE ROLE crm_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'app_pw';
ALTER DATABASE crm OWNER TO crm_owner;
REVOKE ALL ON DATABASE crm FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE crm TO crm_app;
ALTER SCHEMA public OWNER TO crm_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO crm_app;
SQL
