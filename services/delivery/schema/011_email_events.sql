-- Bounces and complaints (docs/delivery.md, "Bounces and complaints"): a
-- tenant's email service reports what became of sent mail as signed
-- events (provider kind 'mailgun' on the email channel: its webhook signing
-- key sealed like the other providers' secrets), and the addresses that
-- bounced for good are kept per tenant and channel so no mail goes to them
-- again until an admin removes them. (A complaint is a consent change in
-- customer-store, not a row here: transactional mail still goes.)
ALTER TABLE delivery.channel_providers DROP CONSTRAINT channel_providers_channel_check;
ALTER TABLE delivery.channel_providers ADD CONSTRAINT channel_providers_channel_check
  CHECK (channel IN ('email', 'sms', 'push'));
ALTER TABLE delivery.channel_providers DROP CONSTRAINT channel_providers_kind_check;
ALTER TABLE delivery.channel_providers ADD CONSTRAINT channel_providers_kind_check
  CHECK (kind IN ('twilio', 'onesignal', 'mailgun'));

CREATE TABLE delivery.suppressions (
  tenant_id uuid NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email')),
  address text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('bounce')),
  detail text NOT NULL DEFAULT '',
  message_id uuid,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, channel, address)
);
SELECT delivery.tenant_rls('delivery.suppressions');
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.suppressions TO crm_app;
