-- Conversions (docs/delivery.md, "Conversions"): orders of the transaction
-- engine (order.* events) credited to the message last clicked before them
-- ('credited'), and orders placed within the window after a campaign reached
-- (or, in the holdout, did not reach) the customer ('exposed': the lift
-- over the holdout). One row per order, message and kind; the newest
-- version of the order wins; a cancelled order has none.
CREATE TABLE delivery.conversions (
  tenant_id uuid NOT NULL,
  order_id text NOT NULL,
  message_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('credited', 'exposed')),
  customer_id uuid NOT NULL,
  campaign_id uuid,
  variant_id text NOT NULL DEFAULT '',
  currency_code text NOT NULL,
  revenue_minor bigint NOT NULL,
  order_version bigint NOT NULL,
  order_time timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, order_id, message_id, kind)
);
CREATE INDEX conversions_campaign ON delivery.conversions (tenant_id, campaign_id, kind)
  WHERE campaign_id IS NOT NULL;
CREATE INDEX conversions_message ON delivery.conversions (tenant_id, message_id);
CREATE INDEX conversions_customer ON delivery.conversions (tenant_id, customer_id);
SELECT delivery.tenant_rls('delivery.conversions');
-- The touches an order looks for: the customer's messages by their latest
-- open and click.
CREATE INDEX messages_customer_touch ON delivery.messages (tenant_id, customer_id)
  WHERE state = 'sent' AND (last_click_at IS NOT NULL OR last_open_at IS NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON delivery.conversions TO crm_app;
