-- Journeys (docs/delivery.md, "Journeys"): the definition as written
-- (checked by the engine; fixed once active), each customer's enrolment
-- with its position, and the steps each enrolment took.
CREATE TABLE delivery.journeys (
  tenant_id uuid NOT NULL,
  journey_id uuid NOT NULL,
  definition jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('draft', 'active', 'paused', 'archived')),
  version bigint NOT NULL,
  -- The event kinds its trigger, goal and waits listen to (the event
  -- consumer's lookup).
  listens text[] NOT NULL DEFAULT '{}',
  activated_at timestamptz,
  archived_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, journey_id)
);
CREATE INDEX journeys_listening ON delivery.journeys (tenant_id, state)
  WHERE state IN ('active', 'paused');
SELECT delivery.tenant_rls('delivery.journeys');
-- The runner finds due enrolments of active journeys of every tenant in a
-- transaction that set app.scheduler = 'on'; it claims them tenant by tenant.
CREATE POLICY scheduler_read ON delivery.journeys FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.journeys TO crm_app;

CREATE TABLE delivery.journey_enrollments (
  tenant_id uuid NOT NULL,
  enrollment_id uuid NOT NULL,
  journey_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  entry integer NOT NULL,
  event_id text NOT NULL DEFAULT '',
  state text NOT NULL CHECK (state IN ('active', 'completed', 'goal_reached', 'exited')),
  step_id text NOT NULL DEFAULT '',
  seq integer NOT NULL DEFAULT 0,
  due_at timestamptz NOT NULL,
  waiting_for_event boolean NOT NULL DEFAULT false,
  attempts integer NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  exit_reason text NOT NULL DEFAULT '',
  -- A runner holding it until then (its steps run one after the other).
  leased_until timestamptz,
  version bigint NOT NULL DEFAULT 0,
  entered_at timestamptz NOT NULL,
  ended_at timestamptz,
  PRIMARY KEY (tenant_id, enrollment_id),
  -- Re-entry: the nth entry of a customer once; one active at a time.
  UNIQUE (tenant_id, journey_id, customer_id, entry)
);
CREATE UNIQUE INDEX journey_enrollments_one_active ON delivery.journey_enrollments
  (tenant_id, journey_id, customer_id) WHERE state = 'active';
-- A redelivered trigger event enrols nobody again.
CREATE UNIQUE INDEX journey_enrollments_event ON delivery.journey_enrollments
  (tenant_id, journey_id, event_id) WHERE event_id <> '';
CREATE INDEX journey_enrollments_due ON delivery.journey_enrollments (due_at)
  WHERE state = 'active';
CREATE INDEX journey_enrollments_journey ON delivery.journey_enrollments
  (tenant_id, journey_id, entered_at DESC);
CREATE INDEX journey_enrollments_customer ON delivery.journey_enrollments
  (tenant_id, customer_id) WHERE state = 'active';
SELECT delivery.tenant_rls('delivery.journey_enrollments');
CREATE POLICY scheduler_read ON delivery.journey_enrollments FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.journey_enrollments TO crm_app;

-- Each step an enrolment entered (its path; the results' visits per step).
CREATE TABLE delivery.journey_steps (
  tenant_id uuid NOT NULL,
  enrollment_id uuid NOT NULL,
  seq integer NOT NULL,
  journey_id uuid NOT NULL,
  step_id text NOT NULL,
  entered_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, enrollment_id, seq)
);
CREATE INDEX journey_steps_journey ON delivery.journey_steps (tenant_id, journey_id, step_id);
SELECT delivery.tenant_rls('delivery.journey_steps');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.journey_steps TO crm_app;
