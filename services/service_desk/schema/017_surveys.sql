-- Satisfaction surveys (docs/service-desk.md, "Satisfaction"): the
-- tenant's settings (as written, JSON, under a version), and each ticket's
-- CSAT survey from the solve that scheduled it to its answer.
CREATE TABLE service_desk.survey_settings (
  tenant_id uuid PRIMARY KEY,
  definition jsonb NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL
);
SELECT service_desk.tenant_rls('service_desk.survey_settings');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.survey_settings TO crm_app;

-- agent, channel and queue: the ticket's when the survey was sent (the
-- report's dimensions; its intent is the ticket's prediction).
CREATE TABLE service_desk.surveys (
  tenant_id uuid NOT NULL,
  survey_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('csat')),
  state text NOT NULL CHECK (state IN ('scheduled', 'sent', 'answered', 'cancelled')),
  cancel_reason text NOT NULL DEFAULT '',
  due_at timestamptz NOT NULL,
  sent_at timestamptz,
  expires_at timestamptz,
  answered_at timestamptz,
  agent text NOT NULL DEFAULT '',
  channel text NOT NULL DEFAULT '',
  queue text NOT NULL DEFAULT '',
  rating smallint CHECK (rating BETWEEN 1 AND 5),
  reason text NOT NULL DEFAULT '',
  comment text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, survey_id),
  UNIQUE (tenant_id, ticket_id, kind),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
-- The sweeper's order (every tenant); a customer's last survey (the
-- cooldown); the report's period.
CREATE INDEX surveys_due ON service_desk.surveys (due_at) WHERE state = 'scheduled';
CREATE INDEX surveys_customer ON service_desk.surveys (tenant_id, customer_id, sent_at DESC)
  WHERE sent_at IS NOT NULL;
CREATE INDEX surveys_sent ON service_desk.surveys (tenant_id, sent_at) WHERE sent_at IS NOT NULL;
SELECT service_desk.tenant_rls('service_desk.surveys');
-- The sweeper finds due surveys of every tenant in a transaction that set
-- app.scheduler = 'on'; it sends them tenant by tenant.
CREATE POLICY scheduler_read ON service_desk.surveys FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.surveys TO crm_app;

ALTER TABLE service_desk.outbound_mails
  DROP CONSTRAINT outbound_mails_kind_check,
  ADD CONSTRAINT outbound_mails_kind_check
    CHECK (kind IN ('reply', 'auto_reply', 'auto_response', 'survey'));
