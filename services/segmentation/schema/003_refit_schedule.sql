-- The refit scheduler (app/refit_schedule.h) lists the tenants whose model is
-- due across tenants: in its own transaction it sets app.scheduler = 'on'
-- and may then read the models (never write them: a refit runs in the
-- tenant's own transaction).
CREATE POLICY scheduler_read ON segmentation.clv_models FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
