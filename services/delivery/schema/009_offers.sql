-- Conversions by offer (docs/delivery.md, "Conversions"): the next best
-- offers a message carried (personalization's offers of its decision_ids,
-- in the same order).
ALTER TABLE delivery.messages ADD COLUMN offer_ids text[] NOT NULL DEFAULT '{}';
