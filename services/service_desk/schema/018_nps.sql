-- NPS surveys (docs/service-desk.md, "Satisfaction"): a survey is CSAT
-- (1..5) or NPS (0..10); a customer's NPS surveys by when they were due
-- (the cadence).
ALTER TABLE service_desk.surveys
  DROP CONSTRAINT surveys_kind_check,
  ADD CONSTRAINT surveys_kind_check CHECK (kind IN ('csat', 'nps')),
  DROP CONSTRAINT surveys_rating_check,
  ADD CONSTRAINT surveys_rating_check CHECK (rating BETWEEN 0 AND 10);
CREATE INDEX surveys_nps_customer ON service_desk.surveys (tenant_id, customer_id, due_at DESC)
  WHERE kind = 'nps';
