-- Classifiers of a tenant's tickets (docs/service-desk.md, "Classifiers on
-- tickets"): per target (queue, type, intent) the trained model (bytes of
-- domain::IntentModel::Serialize), its report on held-out texts (JSON) and
-- its mode; and each ticket's predictions, written with the ticket.
CREATE TABLE service_desk.classifiers (
  tenant_id uuid NOT NULL,
  target text NOT NULL CHECK (target IN ('queue', 'type', 'intent')),
  mode text NOT NULL CHECK (mode IN ('suggest', 'auto')),
  source text NOT NULL CHECK (source IN ('examples', 'tickets')),
  report text NOT NULL,
  model bytea NOT NULL,
  version bigint NOT NULL,
  trained_by text NOT NULL,
  trained_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, target)
);
SELECT service_desk.tenant_rls('service_desk.classifiers');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.classifiers TO crm_app;

CREATE TABLE service_desk.ticket_predictions (
  tenant_id uuid NOT NULL,
  ticket_id uuid NOT NULL,
  target text NOT NULL CHECK (target IN ('queue', 'type', 'intent')),
  label text NOT NULL,
  confidence double precision NOT NULL,
  answered boolean NOT NULL,
  applied boolean NOT NULL,
  classifier_version bigint NOT NULL,
  PRIMARY KEY (tenant_id, ticket_id, target),
  FOREIGN KEY (tenant_id, ticket_id) REFERENCES service_desk.tickets (tenant_id, ticket_id)
    ON DELETE CASCADE
);
SELECT service_desk.tenant_rls('service_desk.ticket_predictions');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.ticket_predictions TO crm_app;

-- Training on the tenant's tickets: its solved and closed ones, newest first.
CREATE INDEX tickets_done_recent ON service_desk.tickets (tenant_id, created_at DESC)
  WHERE status IN ('solved', 'closed');
