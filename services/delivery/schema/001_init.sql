-- The delivery engine (docs/delivery.md): the send ledger, webhook
-- endpoints and sender identities.

-- The send ledger: one row per message, the truth about it. A sender claims
-- a row (state 'sending', claimed_until) before the provider call and
-- finishes it after; the Redis queue only says which rows to look at, and
-- the sweeper re-queues rows the queue lost.
CREATE TABLE delivery.messages (
  tenant_id uuid NOT NULL,
  message_id uuid NOT NULL,
  customer_id uuid NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
  purpose text NOT NULL CHECK (purpose IN ('transactional', 'marketing')),
  template_id text NOT NULL,
  locale text NOT NULL DEFAULT '',
  endpoint_id uuid,
  offer_count integer NOT NULL DEFAULT 0,
  state text NOT NULL CHECK (state IN ('queued', 'sending', 'retrying', 'sent', 'suppressed',
                                       'failed', 'unknown')),
  suppression_reason text NOT NULL DEFAULT '',
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  last_error text NOT NULL DEFAULT '',
  recipient text NOT NULL DEFAULT '',
  provider_id text NOT NULL DEFAULT '',
  decision_ids text[] NOT NULL DEFAULT '{}',
  request_id text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  next_attempt_at timestamptz,
  -- When the row was last put on the queue (NULL: not on it).
  enqueued_at timestamptz,
  -- While 'sending': the claim's lease.
  claimed_until timestamptz,
  sent_at timestamptz,
  PRIMARY KEY (tenant_id, message_id),
  UNIQUE (tenant_id, request_id)
);
CREATE INDEX messages_customer ON delivery.messages (tenant_id, customer_id, created_at DESC,
                                                     message_id DESC);
CREATE INDEX messages_state ON delivery.messages (tenant_id, state, created_at DESC,
                                                  message_id DESC);
-- The sweeper's two reads, across tenants.
CREATE INDEX messages_due ON delivery.messages (next_attempt_at)
  WHERE state IN ('queued', 'retrying');
CREATE INDEX messages_claimed ON delivery.messages (claimed_until) WHERE state = 'sending';

SELECT delivery.tenant_rls('delivery.messages');
-- The sweeper reads due and stale rows of every tenant in a transaction that
-- set app.scheduler = 'on' (as segmentation's scheduler_read); it changes
-- them tenant by tenant.
CREATE POLICY scheduler_read ON delivery.messages FOR SELECT
  USING (current_setting('app.scheduler', true) = 'on');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.messages TO crm_app;

CREATE TABLE delivery.webhook_endpoints (
  tenant_id uuid NOT NULL,
  endpoint_id uuid NOT NULL,
  url text NOT NULL,
  description text NOT NULL DEFAULT '',
  -- The signing key, sealed (AES-256-GCM under a key derived from
  -- CRM_CONTEXT_KEY, bound to the tenant and endpoint).
  secret_sealed bytea NOT NULL,
  timeout_ms integer NOT NULL,
  max_concurrency integer NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, endpoint_id)
);
SELECT delivery.tenant_rls('delivery.webhook_endpoints');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.webhook_endpoints TO crm_app;

CREATE TABLE delivery.sender_settings (
  tenant_id uuid PRIMARY KEY,
  from_address text NOT NULL,
  from_name text NOT NULL DEFAULT '',
  reply_to_address text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL
);
SELECT delivery.tenant_rls('delivery.sender_settings');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.sender_settings TO crm_app;
