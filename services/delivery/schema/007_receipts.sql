-- Delivery receipts (docs/delivery.md, "Delivery receipts"): what the
-- provider reported after it accepted a sent message (SMS status
-- callbacks). The first final report is kept.
ALTER TABLE delivery.messages
  ADD COLUMN receipt text NOT NULL DEFAULT '' CHECK (receipt IN ('', 'delivered', 'bounced')),
  ADD COLUMN receipt_at timestamptz,
  ADD COLUMN receipt_detail text NOT NULL DEFAULT '';
