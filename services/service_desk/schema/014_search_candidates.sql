-- The search's candidates through the GIN indexes (docs/service-desk.md,
-- "Knowledge base and search").
--
-- Row-level security kept the app role's searches off the GIN indexes of
-- migration 013: a policy's condition must be applied before any condition
-- whose operator is not LEAKPROOF, and tsvector @@ tsquery is not, so the
-- planner never used `search @@ q` as an index condition and every search
-- read the tenant's rows one by one (seconds at a million tickets). The
-- candidates are therefore found by service_desk.search_candidates, which
-- runs as the schema owner and scopes every statement to the transaction's
-- tenant itself (app.tenant_id, the setting the policies read; unset: no
-- rows). The owner reads these three tables through a SELECT-only policy;
-- its writes stay bound by the tenant policy, and the app role may only
-- call the function.
CREATE POLICY owner_search ON service_desk.tickets FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_search ON service_desk.ticket_messages FOR SELECT TO CURRENT_USER
  USING (true);
CREATE POLICY owner_search ON service_desk.articles FOR SELECT TO CURRENT_USER USING (true);

-- Walking the newest rows needs a total order: rows written in the same
-- instant (an import) are told apart by their id.
DROP INDEX service_desk.ticket_messages_recent;
CREATE INDEX ticket_messages_recent ON service_desk.ticket_messages
  (tenant_id, created_at DESC, message_id DESC);
DROP INDEX service_desk.articles_recent;
CREATE INDEX articles_recent ON service_desk.articles (tenant_id, updated_at DESC, article_id DESC);

-- The newest `lim` rows of one kind ('messages': ticket_messages.search,
-- 'subjects': tickets.subject_search, 'articles': articles.search of state
-- and locale, '' any) that match q, in no particular order: (row id, its
-- ticket or article, the tsvector to rank). Newest by (instant, id)
-- descending, the instant being created_at (updated_at for articles).
-- Whatever the word's frequency the answer is the same; the work is not:
--  1. the newest `sample` rows are read in time order (the *_recent index);
--  2. when that many matches project that the newest `walk` rows hold the
--     rest, and walking them costs less than fetching every match through
--     the GIN index (a match costs about 6 walked rows; the table's row
--     count from its statistics), those rows are read on;
--  3. what is still missing comes from the GIN index: every older match
--     fetched, the newest kept.
-- A frequent word is thus answered from the newest rows, a rare one from
-- the index; the cost peaks in between (bench/README.md).
CREATE FUNCTION service_desk.search_candidates(kind text, q tsquery, lim int, sample int, walk int,
                                               state text, locale text)
RETURNS TABLE (row_id uuid, parent_id uuid, doc tsvector)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_bitmapscan = on SET enable_indexscan = on SET enable_seqscan = on SET enable_sort = on
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
  tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
  tbl text;
  id_col text;
  parent_col text;
  doc_col text;
  at_col text;
  filter text := '';
  edge_query text;
  range_query text;
  no_id constant uuid := '00000000-0000-0000-0000-000000000000';
  hi_at timestamptz := 'infinity';
  hi_id uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  lo_at timestamptz;
  lo_id uuid;
  found bigint := 0;
  n bigint;
  total float8;
  projected float8;
BEGIN
  IF tenant IS NULL OR lim <= 0 OR sample <= 0 THEN
    RETURN;
  END IF;
  CASE kind
    WHEN 'messages' THEN
      tbl := 'ticket_messages'; id_col := 'message_id'; parent_col := 'ticket_id';
      doc_col := 'search'; at_col := 'created_at';
    WHEN 'subjects' THEN
      tbl := 'tickets'; id_col := 'ticket_id'; parent_col := 'ticket_id';
      doc_col := 'subject_search'; at_col := 'created_at';
    WHEN 'articles' THEN
      tbl := 'articles'; id_col := 'article_id'; parent_col := 'article_id';
      doc_col := 'search'; at_col := 'updated_at';
      filter := ' AND ($2 = '''' OR state = $2) AND ($3 = '''' OR locale = $3)';
    ELSE
      RAISE EXCEPTION 'search_candidates: unknown kind %', kind;
  END CASE;
  -- $1 the tenant, $2 $3 state and locale, $4 q, $5 how many, ($6, $7) and
  -- ($8, $9) the lower (included) and upper (excluded) row keys.
  edge_query := format('SELECT %I, %I FROM service_desk.%I WHERE tenant_id = $1%s '
                       'ORDER BY %I DESC, %I DESC OFFSET $5 LIMIT 1',
                       at_col, id_col, tbl, filter, at_col, id_col);
  range_query := format('SELECT %I, %I, %I FROM service_desk.%I WHERE tenant_id = $1%s '
                        'AND %I @@ $4 AND (%I, %I) >= ($6, $7) AND (%I, %I) < ($8, $9) '
                        'ORDER BY %I DESC, %I DESC LIMIT $5',
                        id_col, parent_col, doc_col, tbl, filter, doc_col, at_col, id_col,
                        at_col, id_col, at_col, id_col);
  -- 1. The newest `sample` rows, in time order (the plan can be nothing
  -- else: rows of one instant make the planner's estimates of a range
  -- useless).
  SET LOCAL enable_bitmapscan = off;
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_sort = off;
  EXECUTE edge_query INTO lo_at, lo_id USING tenant, state, locale, q, sample - 1;
  RETURN QUERY EXECUTE range_query
    USING tenant, state, locale, q, lim, coalesce(lo_at, '-infinity'), coalesce(lo_id, no_id),
          hi_at, hi_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  found := found + n;
  IF found >= lim OR lo_at IS NULL THEN
    RETURN;
  END IF;
  -- 2. On in time order when that is the cheaper way to the rest.
  SELECT c.reltuples INTO total FROM pg_catalog.pg_class c
   WHERE c.oid = format('service_desk.%I', tbl)::regclass;
  projected := (lim - found)::float8 * sample / greatest(found, 1);
  IF found > 0 AND projected <= walk - sample
     AND (total <= 0 OR projected <= 6 * found::float8 / sample * total) THEN
    hi_at := lo_at;
    hi_id := lo_id;
    EXECUTE edge_query INTO lo_at, lo_id USING tenant, state, locale, q, walk - 1;
    RETURN QUERY EXECUTE range_query
      USING tenant, state, locale, q, lim - found, coalesce(lo_at, '-infinity'),
            coalesce(lo_id, no_id), hi_at, hi_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    found := found + n;
    IF found >= lim OR lo_at IS NULL THEN
      RETURN;
    END IF;
  END IF;
  -- 3. The older matches through the GIN index (materialized: the planner
  -- may not walk the time index instead), the newest kept.
  SET LOCAL enable_bitmapscan = on;
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_sort = on;
  RETURN QUERY EXECUTE format('WITH m AS MATERIALIZED (SELECT %I AS id, %I AS parent, %I AS doc, '
                              '%I AS at FROM service_desk.%I WHERE tenant_id = $1%s AND %I @@ $4) '
                              'SELECT m.id, m.parent, m.doc FROM m WHERE (m.at, m.id) < ($6, $7) '
                              'ORDER BY m.at DESC, m.id DESC LIMIT $5',
                              id_col, parent_col, doc_col, at_col, tbl, filter, doc_col)
    USING tenant, state, locale, q, lim - found, lo_at, lo_id;
END $$;
REVOKE ALL ON FUNCTION service_desk.search_candidates(text, tsquery, int, int, int, text, text)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION service_desk.search_candidates(text, tsquery, int, int, int, text, text)
  TO crm_app;
