-- The tenant's retention of behaviour events, as customer-store publishes it
-- (behaviour.settings_updated; GET/PATCH /v1/behaviour/settings there):
-- behaviour older than it counts in no window (a window reaches back at most
-- behaviour_retention_days) and is purged from segmentation.behaviour by the
-- retention job. 0: kept until erased. The newest version wins. A tenant
-- whose settings row is written only for this has the defaults otherwise.
ALTER TABLE segmentation.settings
  ADD COLUMN behaviour_retention_days    bigint NOT NULL DEFAULT 0,
  ADD COLUMN behaviour_retention_version bigint NOT NULL DEFAULT 0;
-- The retention job lists the tenants with a retention across tenants, in
-- its own transaction with app.scheduler = 'on' (as the refit scheduler).
CREATE POLICY scheduler_read ON segmentation.settings FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
-- Its deletes run in each tenant's own transactions, in batches (no index
-- on time: it would cost every behaviour write; a batch reads the tenant's
-- rows through the primary key).
