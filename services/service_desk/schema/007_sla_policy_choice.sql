-- Several SLA policies (docs/service-desk.md, "Several SLA policies"): beside
-- the default policy (definition; NULL until written), the ordered list of
-- policies chosen by conditions (JSON), both under the one version.
ALTER TABLE service_desk.sla_policies ALTER COLUMN definition DROP NOT NULL;
ALTER TABLE service_desk.sla_policies ADD COLUMN policies jsonb NOT NULL DEFAULT '[]';

-- The policy each ticket is under as last evaluated ('' for none); its
-- moves are the ticket's audit rows (field sla_policy).
ALTER TABLE service_desk.ticket_slas ADD COLUMN policy text NOT NULL DEFAULT '';

-- Tickets evaluated before this were under the one policy there was: the
-- default. Row-level security binds the owner too (FORCE): lifted inside
-- this migration's transaction for the update, restored before it commits.
ALTER TABLE service_desk.ticket_slas NO FORCE ROW LEVEL SECURITY;
UPDATE service_desk.ticket_slas SET policy = 'default' WHERE policy_version > 0;
ALTER TABLE service_desk.ticket_slas FORCE ROW LEVEL SECURITY;
