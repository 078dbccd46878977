-- A product's unit cost (personal prices never go below it) and the price
-- quote an order line was priced by (docs/personalization.md, "Personal
-- prices").
ALTER TABLE txn.products ADD COLUMN cost_minor bigint CHECK (cost_minor >= 0);
ALTER TABLE txn.order_lines ADD COLUMN price_quote_id uuid;
