-- SMS and push (docs/delivery.md, "SMS and push"): messages on the two new
-- channels, and each tenant's provider per channel. The provider's secret
-- (an auth token or API key) is sealed like webhook secrets (AES-256-GCM
-- under a key derived from CRM_CONTEXT_KEY, bound to tenant and channel).
ALTER TABLE delivery.messages DROP CONSTRAINT messages_channel_check;
ALTER TABLE delivery.messages ADD CONSTRAINT messages_channel_check
  CHECK (channel IN ('email', 'webhook', 'sms', 'push'));

CREATE TABLE delivery.channel_providers (
  tenant_id uuid NOT NULL,
  channel text NOT NULL CHECK (channel IN ('sms', 'push')),
  kind text NOT NULL CHECK (kind IN ('twilio', 'onesignal')),
  base_url text NOT NULL DEFAULT '',
  account text NOT NULL,
  sender text NOT NULL DEFAULT '',
  secret_sealed bytea NOT NULL,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, channel)
);
SELECT delivery.tenant_rls('delivery.channel_providers');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.channel_providers TO crm_app;
