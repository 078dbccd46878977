#!/usr/bin/env bash
# Behaviour-event ingest through the gateway next to raw COPY of the same
# rows:
#   - ingest: POST /v1/events:track through the gateway's REST API (API key,
#     rate limiter, transcoding, customer-store's validation, subject
#     resolution, truncated IP / device class, one multi-row INSERT per batch
#     with its outbox rows, commit before the answer), batches of BENCH_BATCH
#     (500) events, wrk with BENCH_WRK_CONNS (16) connections, BENCH_WARMUP +
#     BENCH_DURATION seconds; events/s = accepted batches/s x batch size. The
#     outbox relay and every engine's consumer (segmentation keeps the
#     behaviour facts) run on the same two cores, as they would;
#   - ceiling: the rows that run stored, copied out, deleted, and written
#     again with one COPY into the same partitioned table (its indexes, as
#     superuser: no row-level security), rows/s.
# The stored rows are counted against requests x batch size, so refused
# events cannot pass for throughput. See bench/README.md,
# "behaviour_ingest_bench.sh".
#
#   bench/behaviour_ingest_bench.sh
#
# Starts its own PostgreSQL, Redis and every listed service under
# build/bench-run/behaviour-ingest on private ports (test ports + 10600) and
# stops them on exit. Environment: BENCH_BATCH (500), BENCH_BODIES (64
# distinct bodies), BENCH_CUSTOMERS (10000 known customers; 30 % of the
# events name one, the rest are anonymous visitors), BENCH_WRK_CONNS (16),
# BENCH_DURATION (15), BENCH_WARMUP (2).
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/behaviour-ingest}
BENCH_WRK_CONNS=${BENCH_WRK_CONNS:-16}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly BATCH=${BENCH_BATCH:-500} BODIES=${BENCH_BODIES:-64} CUSTOMERS=${BENCH_CUSTOMERS:-10000}
readonly PG_PORT=55440 REDIS_PORT=56387
bench_services 10600
GW_HTTP=$(bench_port gateway http)
readonly REST=http://127.0.0.1:$GW_HTTP
OUT=$BENCH_RUN_DIR/out
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
bench_banner "behaviour_ingest_bench: POST /v1/events:track ($BATCH events a batch) vs COPY"
bench_cpu_note
bench_stack_prepare $PG_PORT $REDIS_PORT
# Where PostgreSQL's time goes: statements by total time (reset before the
# measured run, read after it).
bench_psql_super -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
bench_pg_restart
bench_psql_super -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
bench_migrate
BENCH_SVC_ENV[gateway]="CRM_DEFAULT_RATE_LIMIT=1000000"
bench_start_services
bench_bootstrap_tenant bench-behaviour
bench_say "tenant $BENCH_TENANT, key $BENCH_KEY_ID"

bench_say "seeding $CUSTOMERS customers in SQL"
bench_psql_owner -v tenant="$BENCH_TENANT" -v n="$CUSTOMERS" <<'SQL'
BEGIN;
SET LOCAL app.tenant_id = :'tenant';
INSERT INTO customer_store.customers (tenant_id, id, given_name)
  SELECT :'tenant', md5('crm-bench-behaviour-' || g)::uuid, 'Bench ' || g
  FROM generate_series(1, :n) g;
COMMIT;
SQL
bench_psql_owner -At -v tenant="$BENCH_TENANT" >"$OUT/customers.txt" <<'SQL'
SET app.tenant_id = :'tenant';
SELECT id FROM customer_store.customers WHERE tenant_id = :'tenant';
SQL

# Bodies: a mix of types and subjects; no occurTime (now), so a body can be
# sent again and again (event ids are the server's).
"$BENCH_PY" - "$OUT/customers.txt" "$OUT/bodies.ndjson" "$BODIES" "$BATCH" <<'PY'
import json, random, sys
customers = [l.strip() for l in open(sys.argv[1]) if l.strip()]
out, bodies, batch = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(7)
cats = [["Music", "Jazz"], ["Music", "Rock"], ["Books", "Novels"], ["Shoes", "Running"]]
agents = ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"]
with open(out, "w") as f:
    for b in range(bodies):
        events = []
        for i in range(batch):
            r = rng.random()
            kind = ("page.viewed" if r < 0.5 else "product.viewed" if r < 0.8
                    else "search.performed" if r < 0.9 else "cart.item_added")
            e = {"type": kind}
            if rng.random() < 0.3:
                e["customerId"] = rng.choice(customers)
            else:
                e["visitorId"] = "v-%d" % rng.randrange(200000)
            sku = "SKU-%d" % rng.randrange(5000)
            p = {"url": "https://shop.example/p/%s?utm_source=news" % sku, "path": "/p/" + sku,
                 "referrer": "https://www.example.org/", "utmCampaign": "winter"}
            if kind in ("product.viewed", "cart.item_added"):
                p.update({"sku": sku, "categoryPath": rng.choice(cats),
                          "value": round(rng.uniform(5, 200), 2), "currencyCode": "CHF"})
            if kind == "cart.item_added":
                p["quantity"] = rng.randrange(1, 4)
            if kind == "search.performed":
                p["searchQuery"] = rng.choice(["jazz", "running shoes", "novels"])
            e["properties"] = p
            e["context"] = {"ip": "203.0.113.%d" % rng.randrange(256),
                            "userAgent": rng.choice(agents)}
            events.append(e)
        f.write(json.dumps({"events": events}, separators=(",", ":")) + "\n")
PY
BODY_BYTES=$(head -n 1 "$OUT/bodies.ndjson" | wc -c)

# A probe: one batch must be accepted whole.
PROBE=$(head -n 1 "$OUT/bodies.ndjson" | curl -sS --max-time 30 -H "Authorization: Bearer $BENCH_KEY" \
  -H 'Content-Type: application/json' --data-binary @- "$REST/v1/events:track")
[[ $(jq -r .accepted <<<"$PROBE") == "$BATCH" ]] ||
  bench_die "the probe batch was not accepted whole: $(jq -c '{accepted, refused, first: .results[0]}' <<<"$PROBE")"

count_stored() {
  bench_psql_super -At -c "SELECT count(*) FROM customer_store.behaviour_events WHERE tenant_id = '$BENCH_TENANT'"
}
BENCH_CPU_COMPONENTS=(
  "gateway=$(bench_pid_of gateway)" "customer-store=$(bench_pid_of customer-store)"
  "segmentation=$(bench_pid_of segmentation)" "redis=$(cat "$BENCH_RUN_DIR/redis/redis.pid")"
  "postgres=")
export BENCH_API_KEY=$BENCH_KEY  # track.lua reads the key from the environment
BEFORE=$(count_stored)
bench_psql_super -c "SELECT pg_stat_statements_reset()" >/dev/null
bench_wrk ingest-rest "$REST" "$BENCH_DIR/track.lua" "$OUT/bodies.ndjson"
bench_psql_super -A -F $'\t' -c "SELECT round(total_exec_time)::bigint AS ms, calls, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements WHERE calls > 0 ORDER BY total_exec_time DESC LIMIT 12" >"$OUT/statements.tsv"
sleep 1  # requests in flight when wrk's window closed finish
AFTER=$(count_stored)
WARM=$(grep -o 'requests=[0-9]*' "$OUT/ingest-rest.wrk.txt.warmup" | cut -d= -f2)
MEASURED=$(grep -o 'requests=[0-9]*' "$OUT/ingest-rest.wrk.txt" | cut -d= -f2)
EXPECTED=$(((WARM + MEASURED) * BATCH))
STORED=$((AFTER - BEFORE))
# At most one batch per connection may land after wrk stopped counting.
((STORED >= EXPECTED && STORED <= EXPECTED + BENCH_WRK_CONNS * 2 * BATCH)) ||
  bench_die "stored $STORED events for $((WARM + MEASURED)) answered batches of $BATCH (expected $EXPECTED)"
RPS=$(bench_rps_of ingest-rest)
EPS=$(awk -v r="$RPS" -v b="$BATCH" 'BEGIN { printf "%.0f", r * b }')
OUTBOX=$(bench_psql_super -At -c "SELECT count(*) FROM customer_store.outbox WHERE tenant_id = '$BENCH_TENANT' AND event_type LIKE 'behaviour.%'")

# The ceiling: the same rows, one COPY into the same table.
ROWS=$(count_stored)
# (psql runs as the postgres user: the file lives in its folder.)
ROWS_FILE=$BENCH_PG_HOME/behaviour.tsv
bench_psql_super -c "\\copy (SELECT * FROM customer_store.behaviour_events WHERE tenant_id = '$BENCH_TENANT') TO '$ROWS_FILE'" >/dev/null
bench_psql_super -c "DELETE FROM customer_store.behaviour_events WHERE tenant_id = '$BENCH_TENANT'" >/dev/null
bench_psql_super -c "VACUUM customer_store.behaviour_events" >/dev/null
t0=$(date +%s.%N)
bench_psql_super -c "\\copy customer_store.behaviour_events FROM '$ROWS_FILE'" >/dev/null
t1=$(date +%s.%N)
[[ $(count_stored) == "$ROWS" ]] || bench_die "COPY wrote $(count_stored) of $ROWS rows"
COPY_S=$(echo "$t1 - $t0" | bc -l)
COPY_EPS=$(awk -v n="$ROWS" -v s="$COPY_S" 'BEGIN { printf "%.0f", n / s }')

echo
bench_report ingest-rest
echo
echo "Bodies: $BODIES distinct batches of $BATCH events, ${BODY_BYTES} bytes each (30 % known customers, 70 % anonymous visitors)."
echo "PostgreSQL statements by execution time during the runs (ms, calls, rows, query):"
sed 's/^/  /' "$OUT/statements.tsv"
echo "Stored $STORED events for $((WARM + MEASURED)) answered batches (warm-up included): none refused; $OUTBOX behaviour.* outbox rows."
printf '  %-52s %12s\n' "" "events/s"
printf '  %-52s %12s   p50 %s ms, p99 %s ms a batch\n' "POST /v1/events:track through the gateway (REST)" "$EPS" \
  "$(awk -F'\t' '$1 == "ingest-rest" { print $3 }' <<<"$BENCH_RESULTS")" "$(bench_p99_of ingest-rest)"
printf '  %-52s %12s   (%s rows in %.2f s)\n' "COPY of the same rows into the same table" "$COPY_EPS" "$ROWS" "$COPY_S"
RATIO=$(awk -v a="$EPS" -v c="$COPY_EPS" 'BEGIN { printf "%.2f", a / c }')
echo "  ratio: ${RATIO}x COPY (target >= 0.5x: $(awk -v r="$RATIO" 'BEGIN { print (r >= 0.5 ? "MET" : "MISSED") }'))"
