-- The knowledge base and search (docs/service-desk.md, "Knowledge base and
-- search"): articles with every version kept, and full-text search over
-- them and over tickets (subject and every message) by PostgreSQL's own
-- full-text search: tsvector columns the database computes in the write
-- that changes the text (so the index is current when the write commits),
-- GIN indexes, the 'english' configuration (English stemmed and its stop
-- words dropped; other scripts, Korean included, kept as whole words,
-- which the search matches by prefix). A search ranks at most a bounded
-- number of the most recent matches of each kind (the *_recent indexes
-- let a frequent word's be found without reading every match).
CREATE TABLE service_desk.articles (
  tenant_id uuid NOT NULL,
  article_id uuid NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  category text NOT NULL,
  locale text NOT NULL,
  state text NOT NULL CHECK (state IN ('draft', 'internal', 'public')),
  author text NOT NULL,
  version bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
  ) STORED,
  PRIMARY KEY (tenant_id, article_id)
);
CREATE INDEX articles_search ON service_desk.articles USING gin (search);
-- A frequent word's candidates: the most recently updated first.
CREATE INDEX articles_recent ON service_desk.articles (tenant_id, updated_at DESC);
SELECT service_desk.tenant_rls('service_desk.articles');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.articles TO crm_app;

CREATE TABLE service_desk.article_versions (
  tenant_id uuid NOT NULL,
  article_id uuid NOT NULL,
  version bigint NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  category text NOT NULL,
  locale text NOT NULL,
  state text NOT NULL,
  author text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, article_id, version)
);
SELECT service_desk.tenant_rls('service_desk.article_versions');
GRANT SELECT, INSERT, UPDATE, DELETE ON service_desk.article_versions TO crm_app;

ALTER TABLE service_desk.tickets ADD COLUMN subject_search tsvector
  GENERATED ALWAYS AS (to_tsvector('english', subject)) STORED;
CREATE INDEX tickets_subject_search ON service_desk.tickets USING gin (subject_search);
ALTER TABLE service_desk.ticket_messages ADD COLUMN search tsvector
  GENERATED ALWAYS AS (to_tsvector('english', body)) STORED;
CREATE INDEX ticket_messages_search ON service_desk.ticket_messages USING gin (search);
CREATE INDEX ticket_messages_recent ON service_desk.ticket_messages (tenant_id, created_at DESC);
