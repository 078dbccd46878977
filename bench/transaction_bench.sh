#!/usr/bin/env bash
# Bulk order ingest (IngestOrders bidi streams, batches of 1,000 orders with 3
# lines each, one event per order): orders/s and rows/s through the gateway
# over gRPC, straight to the transaction service (no gateway), and raw COPY
# of the same rows into the same tables of the same database, measured in the
# same run as the ceiling (see bench/README.md, "transaction_bench.sh").
#
#   bench/transaction_bench.sh
#   BENCH_PERF=1 bench/transaction_bench.sh     # + perf profile of the gateway gRPC run
#
# Starts its own PostgreSQL, Redis, customer-store, transaction and gateway
# under build/bench-run/transaction on private ports, and stops them all on
# exit. Exit status: 0 when every run completed and every check passed (every
# order created, none rejected, 3 lines and 1 outbox event per order). A
# missed performance target is REPORTED, not a failure. Environment:
# BENCH_ORDERS (orders per run, default 60000), BENCH_STREAMS (concurrent
# streams / psql sessions, default 4), BENCH_BATCH (orders per batch, default
# 1000), BENCH_BASE_ORDERS (orders the tenant holds before the runs, default
# 50000), BENCH_CUSTOMERS (default 10000), BENCH_SKUS (default 1000),
# BENCH_QUIET_WAIT (seconds to wait for builds to finish, default 600).
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/transaction}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly ORDERS=${BENCH_ORDERS:-60000}
readonly STREAMS=${BENCH_STREAMS:-4}
readonly BATCH=${BENCH_BATCH:-1000}
readonly BASE=${BENCH_BASE_ORDERS:-50000}
readonly CUSTOMERS=${BENCH_CUSTOMERS:-10000}
readonly SKUS=${BENCH_SKUS:-1000}
readonly WARM=200
readonly NBATCH=$(((ORDERS + BATCH - 1) / BATCH))

# Ports: distinct from the other benches, the tests and the local stack.
readonly PG_PORT=55436 REDIS_PORT=56383
# Every service of k8s/services.yaml on its test port + 10200 (transaction
# gRPC 25262 / metrics 29662, gateway HTTP 28280 / gRPC 25251 / metrics 29660).
bench_services 10200
TX_GRPC=$(bench_port transaction grpc)
TX_METRICS=$(bench_port transaction metrics)
GW_GRPC=$(bench_port gateway grpc)
readonly TX_GRPC TX_METRICS GW_GRPC

readonly CLIENT=$BENCH_DIR/order_client.py

OUT=$BENCH_RUN_DIR/out
PG_LOG=$BENCH_RUN_DIR/pg/postgres.log
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
echo "== transaction_bench: bulk order ingest (IngestOrders) vs raw COPY — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "   commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
echo "CPU: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), NOT pinned:"
echo "     the client (python3 / psql), gateway, transaction, Redis and PostgreSQL share them."

# ------------------------------------------------------------------ build
bench_build_services
bench_require_binaries

# ------------------------------------------------------------- datastores
# shellcheck disable=SC2046  # the ports are words
bench_require_free_ports $(crm_svc_all_ports)
bench_say "fresh PostgreSQL (127.0.0.1:$PG_PORT) and Redis (127.0.0.1:$REDIS_PORT) under $BENCH_RUN_DIR"
bench_datastores_fresh $PG_PORT $REDIS_PORT
bench_migrate
# Statement durations of the services' role go to the PostgreSQL log (a
# handful of statements per batch, parameters not logged): the per-statement
# split of a batch's database time. Set before the services connect.
bench_psql_super <<'SQL'
ALTER ROLE crm_app SET log_min_duration_statement = 0;
ALTER ROLE crm_app SET log_parameter_max_length = 0;
SQL

# --------------------------------------------------------------- services
# Every service of the list. The outbox relays are off while measuring:
# ingest's cost is writing the events in its transaction; publishing them is
# asynchronous work that would otherwise run during the NEXT run
# (order_latency_bench.sh measures the relay path).
BENCH_SVC_ENV[customer-store]="CRM_OUTBOX_RELAY=false CRM_CONSUMER_NAME=bench-cs"
BENCH_SVC_ENV[transaction]="CRM_OUTBOX_RELAY=false"
BENCH_SVC_ENV[gateway]="CRM_DEFAULT_RATE_LIMIT=1000000"
bench_start_services

# ------------------------------------------------------------ tenant, key
bench_bootstrap_tenant bench-orders
KEY=$BENCH_KEY KEY_ID=$BENCH_KEY_ID TENANT=$BENCH_TENANT
bench_say "tenant $TENANT, key $KEY_ID"

STUBS=$BENCH_RUN_DIR/py
rm -rf "$STUBS"
"$BENCH_PY" "$BENCH_DIR/import_client.py" protos "$STUBS" || bench_die "generating the Python stubs failed"

# The catalog through the public API (BatchUpsertProducts via the gateway).
CAT=$("$BENCH_PY" "$CLIENT" catalog "127.0.0.1:$GW_GRPC" --stubs "$STUBS" --md "authorization=Bearer $KEY" \
  --skus "$SKUS") || bench_die "BatchUpsertProducts failed: $CAT"
bench_say "catalog: $CAT"

# BASE orders (3 lines each) of the bench tenant, in SQL as the superuser:
# the tenant is not new, like a running CRM's. The orders' customers exist in
# customer-store: ingest checks every customer an order names (one batch
# lookup per message).
bench_say "seeding $CUSTOMERS customers and $BASE orders"
bench_psql_super -v t="$TENANT" -v n="$BASE" -v c="$CUSTOMERS" -v k="$SKUS" >/dev/null <<'SQL'
BEGIN;
INSERT INTO customer_store.customers (tenant_id, id, given_name, family_name, locale, attributes)
SELECT :'t', md5('bench-cust-' || g)::uuid, 'Buyer' || g, 'Bench', 'de-CH', '{}'
FROM generate_series(1, :c) g;
INSERT INTO txn.orders (tenant_id, id, customer_id, currency, total_minor, channel, store_id,
                        status, placed_at, version, created_at, updated_at, external_id)
SELECT :'t', md5('base-order-' || g)::uuid, md5('bench-cust-' || (1 + g % :c))::uuid, 'CHF',
       3 * 1000, 5, 'erp-base', 4, now() - (g || ' minutes')::interval, 1, now(), now(),
       'base-' || lpad(g::text, 7, '0')
FROM generate_series(1, :n) g;
INSERT INTO txn.order_lines (tenant_id, order_id, line_no, sku, quantity, unit_price_minor, discount_minor)
SELECT :'t', md5('base-order-' || g)::uuid, j, 'SKU-' || lpad((1 + (g * 7 + j * 131) % :k)::text, 5, '0'), 1, 1000, 0
FROM generate_series(1, :n) g, generate_series(0, 2) j;
COMMIT;
ANALYZE customer_store.customers;
SQL

GW_PID=$(bench_pid_of gateway)
TX_PID=$(bench_pid_of transaction)
REDIS_PID=$(cat "$BENCH_RUN_DIR/redis/redis.pid")
HZ=$(getconf CLK_TCK)
ROWS_PER_RUN=$((ORDERS * 5))   # 1 order + 3 lines + 1 outbox event

echo
echo "Orders: $ORDERS per run in $NBATCH batches of $BATCH (3 lines each, SKUs of a $SKUS-product catalog"
echo "        created with BatchUpsertProducts), over $STREAMS concurrent streams (one connection each;"
echo "        each stream sends its batches without waiting, the server answers them in order);"
echo "        rows per run: orders + 3 x lines + 1 outbox event = $ROWS_PER_RUN (the service also"
echo "        writes 1 audit row per order, not counted). COPY: the same rows (same values, same event"
echo "        payloads) with \\copy, one transaction per batch, $STREAMS psql sessions in parallel, as the"
echo "        PostgreSQL superuser over the unix socket (COPY FROM is refused under row-level security,"
echo "        which these tables FORCE even for their owner); same tables, indexes, triggers and FKs."
echo "        Every run first sends an unmeasured warm-up batch of $WARM orders. Before each run the"
echo "        previous run's rows are deleted (VACUUM ANALYZE, CHECKPOINT): every run writes into"
echo "        the same tables, where the tenant already has $BASE orders (+ 3 lines each)."
echo "        The client builds all request bytes / COPY files BEFORE its clock starts."

# ------------------------------------------------------------ measuring
settle_db() {
  bench_psql_super -v tenant="$TENANT" >/dev/null <<'SQL'
DELETE FROM txn.orders WHERE tenant_id = :'tenant' AND external_id NOT LIKE 'base-%';
DELETE FROM txn.outbox WHERE tenant_id = :'tenant';
DELETE FROM txn.audit_log WHERE tenant_id = :'tenant';
VACUUM ANALYZE txn.orders, txn.order_lines, txn.outbox, txn.audit_log;
CHECKPOINT;
SQL
  local i
  for ((i = 0; i < 60; i++)); do
    [[ $(bench_psql_super -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'") == 0 ]] && return 0
    sleep 1
  done
  bench_say "autovacuum still busy after 60s; measuring anyway"
}

snapshot() {
  echo "$(bench_ticks_of "$GW_PID") $(bench_ticks_of "$TX_PID") $(bench_ticks_of "$REDIS_PID") $(bench_pg_ticks_all)"
}

pg_log_size() { stat -c %s "$PG_LOG" 2>/dev/null || echo 0; }

# Non-OK IngestOrders calls the transaction service counted (cumulative).
tx_not_ok() {
  curl -s --max-time 5 "http://127.0.0.1:$TX_METRICS/metrics" | awk '
    /^crm_rpc_server_handled_total\{/ && /method="IngestOrders/ && !/code="OK"/ { s += $NF }
    END { print s + 0 }'
}

RESULTS=""   # TSV: name orders seconds client_cpu gw tx redis pg (CPU ms per 1000 orders)
CHECKS=""
DBSPLIT=""
FAILED_CHECKS=0

# verify NAME TAG AUDIT: this run's rows in the tables (as the superuser: no RLS).
verify() {
  local name=$1 tag=$2 audit=$3 expect=$((ORDERS + WARM)) got
  got=$(bench_psql_super -At -v tenant="$TENANT" -v tag="$tag" <<'SQL'
SELECT (SELECT count(*) FROM txn.orders WHERE tenant_id = :'tenant' AND external_id LIKE :'tag' || '-%')
    || ' ' || (SELECT count(*) FROM txn.order_lines l JOIN txn.orders o
               ON o.tenant_id = l.tenant_id AND o.id = l.order_id
               WHERE o.tenant_id = :'tenant' AND o.external_id LIKE :'tag' || '-%')
    || ' ' || (SELECT count(*) FROM txn.outbox WHERE tenant_id = :'tenant'
               AND event_type = 'order.placed' AND payload->>'external_id' LIKE :'tag' || '-%')
    || ' ' || (SELECT count(*) FROM txn.audit_log WHERE tenant_id = :'tenant'
               AND resource NOT LIKE 'erp-batch%')
    || ' ' || (SELECT count(*) FROM txn.audit_log WHERE tenant_id = :'tenant'
               AND resource LIKE 'erp-batch%')
    || ' ' || (SELECT count(*) FROM txn.orders o WHERE o.tenant_id = :'tenant'
               AND o.external_id LIKE :'tag' || '-%' AND o.total_minor <> (SELECT
               sum(quantity * unit_price_minor - discount_minor) FROM txn.order_lines l
               WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id));
SQL
  )
  local orders lines events audits baudits badsum ok=OK expect_audit=0 expect_baudit=0
  read -r orders lines events audits baudits badsum <<<"$got"
  [[ $audit == no ]] || expect_audit=$expect
  [[ $audit != yes ]] || expect_baudit=$((NBATCH + 1))   # the service also audits each batch
  ((orders == expect && lines == 3 * expect && events == expect && audits == expect_audit &&
    baudits == expect_baudit && badsum == 0)) || ok=FAILED
  CHECKS+="  $name: orders $orders, lines $lines, outbox events $events, audit rows $audits + $baudits per batch, totals <> sum of lines $badsum (expected $expect / $((3 * expect)) / $expect / $expect_audit + $expect_baudit / 0) -> $ok"$'\n'
  [[ $ok == OK ]] || FAILED_CHECKS=1
}

check_report() {
  local name=$1 json=$2 line ok=OK
  line=$(jq -r '"\(.report.created) \(.report.already_existing) \(.report.rejected) \(.report.responses // 0) \(.warm_report.created // 0) \(.warm_report.rejected // 0) \(.errors | length)"' <<<"$json")
  local created existing rejected responses wcreated wrejected nerr
  read -r created existing rejected responses wcreated wrejected nerr <<<"$line"
  ((created == ORDERS && existing == 0 && rejected == 0 && responses == NBATCH &&
    wcreated == WARM && wrejected == 0 && nerr == 0)) || ok=FAILED
  CHECKS+="  $name: responses $responses of $NBATCH batches: created $created, already existing $existing, rejected $rejected (warm-up: created $wcreated, rejected $wrejected) -> $ok"$'\n'
  [[ $ok == OK ]] || FAILED_CHECKS=1
}

# db_split NAME FROM_BYTE: the crm_app statements logged during the run,
# milliseconds summed per statement kind, per batch.
db_split() {
  local name=$1 from=$2
  DBSPLIT+="  $name (ms per batch of $BATCH orders; $((NBATCH + 1)) batches logged incl. warm-up, divided by $NBATCH):"$'\n'
  DBSPLIT+=$(tail -c +"$((from + 1))" "$PG_LOG" | awk -v nb="$NBATCH" '
    match($0, /duration: [0-9.]+ ms  /) {
      ms = substr($0, RSTART + 10, RLENGTH - 15) + 0
      rest = substr($0, RSTART + RLENGTH)
      if (rest ~ /^(execute|bind|parse) /) { split(rest, w, /[ :]+/); k = w[1] " " w[2] }
      else { sub(/^statement: /, "", rest); split(rest, w, /[ (]+/); k = w[1] " " w[2] " " w[3] " " w[4] }
      k = substr(k, 1, 40); t[k] += ms; all += ms
    }
    END {
      for (k in t) if (t[k] / nb >= 1) printf "    %-44s %9.1f\n", k, t[k] / nb
      printf "    %-44s %9.1f\n", "= all logged statements (summed over sessions)", all / nb
    }' | sort)$'\n'
}


SHAPE=(--orders "$ORDERS" --batch "$BATCH" --streams "$STREAMS" --warm "$WARM"
  --customers "$CUSTOMERS" --skus "$SKUS")

# run NAME KIND TAG AUDIT CLIENT_ARGS...: one measured run.
run() {
  local name=$1 kind=$2 tag=$3 audit=$4
  shift 4
  bench_wait_quiet
  [[ -z $BENCH_QUIET_NOTE ]] || { QUIET_NOTES+="  $name: $BENCH_QUIET_NOTE"$'\n'; BENCH_QUIET_NOTE=""; }
  settle_db
  local nok0 logpos before after json
  nok0=$(tx_not_ok)
  logpos=$(pg_log_size)
  if [[ $name == gateway-grpc ]]; then perf_start; fi
  before=$(snapshot)
  bench_say "$name: $ORDERS orders in $NBATCH batches over $STREAMS streams ..."
  json=$(timeout -k 5 900 "$BENCH_PY" "$CLIENT" "$kind" "$@" --tag "$tag" "${SHAPE[@]}" \
    2>"$OUT/$name.client.err") || bench_die "$name: the client failed: $(tail -n 5 "$OUT/$name.client.err") $json"
  after=$(snapshot)
  if [[ $name == gateway-grpc ]]; then perf_stop; fi
  echo "$json" >"$OUT/$name.json"
  local secs ccpu cpu
  read -r secs ccpu < <(jq -r '"\(.seconds) \(.client_cpu_s)"' <<<"$json")
  # Server CPU covers the warm-up batch too: divided by all orders sent.
  cpu=$(awk -v b="$before" -v a="$after" -v hz="$HZ" -v n="$((ORDERS + WARM))" 'BEGIN {
    split(b, B, " "); split(a, A, " ");
    for (i = 1; i <= 4; i++) printf "%.1f\t", (A[i] - B[i]) * 1000 / hz * 1000 / n }')
  RESULTS+="$name	$ORDERS	$secs	$ccpu	$cpu"$'\n'
  bench_say "$name: $ORDERS orders in ${secs}s ($(jq -r .orders_per_s <<<"$json") orders/s), client CPU ${ccpu}s; streams done at $(jq -c .stream_seconds <<<"$json")"
  check_report "$name" "$json"
  if [[ $kind != copy ]]; then
    local nok
    nok=$(($(tx_not_ok) - nok0))
    CHECKS+="  $name: transaction non-OK IngestOrders calls: $nok"$'\n'
    ((nok == 0)) || FAILED_CHECKS=1
    db_split "$name" "$logpos"
  fi
  verify "$name" "$tag" "$audit"
}
QUIET_NOTES=""

COPY_ARGS=(--super-socket "$BENCH_PG_HOME/sock:$PG_PORT" --tenant "$TENANT" --out "$OUT/copy")
# Unmeasured priming run: the tables grow to the size every run needs once,
# so each measured run reuses the space its predecessor freed (without it the
# first run alone pays for extending the files and ran ~25% slower).
bench_say "prime: one unmeasured COPY run of $ORDERS orders"
"$BENCH_PY" "$CLIENT" copy "${COPY_ARGS[@]}" --tag p0 "${SHAPE[@]}" >/dev/null 2>"$OUT/prime.client.err" ||
  bench_die "prime: the client failed: $(tail -n 5 "$OUT/prime.client.err")"
run copy copy c1 no "${COPY_ARGS[@]}"
run gateway-grpc ingest g1 yes "127.0.0.1:$GW_GRPC" --stubs "$STUBS" --md "authorization=Bearer $KEY"
run transaction-grpc ingest t1 yes "127.0.0.1:$TX_GRPC" --stubs "$STUBS" \
  --md "x-crm-tenant-id=$TENANT" --md "x-crm-principal=$KEY_ID" --md "x-crm-roles=admin" \
  --md "x-crm-context-seal=$(bench_context_seal "$TENANT" "$KEY_ID" admin)"
run copy-again copy c2 no "${COPY_ARGS[@]}"
run copy-with-audit copy c3 orders-only "${COPY_ARGS[@]}" --audit
rm -rf "$OUT/copy"

# The plan of erp_take_existing (the external-id look-up of a batch, see
# services/transaction/storage/pg_erp_repository.cc) for a batch of 1,000 new
# external ids, staging table filled and not analyzed, under RLS, against the
# tables as the last run left them: once with the tenant as a literal (a
# custom plan) and once as the service runs it, a prepared statement with
# $1, for which PostgreSQL may switch to a cached GENERIC plan (tenant
# unknown at planning) after 5 executions.
TAKE_EXISTING_PLAN=$(bench_psql_owner -At -v tenant="$TENANT" -v n="$BATCH" <<'SQL' 2>&1 | sed 's/^/  /'
BEGIN;
SET LOCAL app.tenant_id = :'tenant';
-- The service's staging table (kStage in pg_erp_repository.cc), filled like
-- a batch: 1,000 new orders with their ~450-byte event payloads.
CREATE TEMP TABLE erp_stage_orders (idx int4 NOT NULL, id uuid NOT NULL,
  external_id text NOT NULL, customer_id uuid NOT NULL, currency text NOT NULL,
  total_minor int8 NOT NULL, channel int2 NOT NULL, store_id text NOT NULL,
  status int2 NOT NULL, version int8 NOT NULL, placed_us int8 NOT NULL,
  created_us int8 NOT NULL, event_type text NOT NULL, payload text NOT NULL) ON COMMIT DROP;
INSERT INTO erp_stage_orders
SELECT g, gen_random_uuid(), 'plan-' || lpad(g::text, 7, '0'), gen_random_uuid(), 'CHF', 4000, 5,
       'erp-bench', 1, 1, 0, 0, 'order.placed', repeat('x', 450)
FROM generate_series(1, :n) g;
PREPARE take_existing(uuid) AS
WITH ex AS (SELECT s.idx, o.id FROM erp_stage_orders s JOIN txn.orders o
  ON o.tenant_id = $1 AND o.external_id = s.external_id AND o.external_id <> '')
DELETE FROM erp_stage_orders s USING ex WHERE s.idx = ex.idx RETURNING s.idx, ex.id::text;
SET LOCAL plan_cache_mode = force_custom_plan;
\echo custom plan (tenant known):
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE take_existing(:'tenant');
SET LOCAL plan_cache_mode = force_generic_plan;
\echo generic plan (tenant unknown at planning; a prepared statement may use it after 5 executions):
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE take_existing(:'tenant');
ROLLBACK;
SQL
)

# ----------------------------------------------------------------- report
echo
echo "== results ($(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores SHARED by client and servers)"
[[ -z $QUIET_NOTES ]] || printf '%s' "$QUIET_NOTES"
COPY_OPS=$(awk -F'\t' '$1 == "copy" { print $2 / $3 }' <<<"$RESULTS")
printf '\n%-20s %10s %10s %9s %9s %11s\n' name orders/s rows/s seconds "x COPY" "client CPU"
printf '%s\n' "-------------------------------------------------------------------------"
awk -F'\t' -v c="$COPY_OPS" 'NF >= 4 {
  r = $2 / $3; printf "%-20s %10.0f %10.0f %9.2f %9.2f %9.2fs (%2.0f%%)\n", $1, r, r * 5, $3, r / c, $4, $4 * 100 / $3 }' <<<"$RESULTS"
echo
echo "  orders/s = orders created / wall time from the start of all $STREAMS streams (sessions) to the"
echo "  last answer (COPY: to the end of the last psql session, connections included)."
echo "  rows/s = orders/s x 5 (1 order + 3 lines + 1 outbox event). x COPY = / copy."
echo "  client CPU = the load generator's own CPU while timed (% of wall)."
echo
echo "CPU per 1000 orders (ms, user+sys; the warm-up batch included, divided by all orders sent):"
printf '  %-20s %9s %9s %9s %9s %9s\n' run client gateway txn redis postgres
awk -F'\t' 'NF >= 8 {
  printf "  %-20s %9.1f %9.1f %9.1f %9.1f %9.1f\n", $1, $4 * 1e6 / $2, $5, $6, $7, $8 }' <<<"$RESULTS"
echo
echo "PostgreSQL time of the ingest statements (log_min_duration_statement = 0 for crm_app):"
printf '%s' "$DBSPLIT"
echo
echo "Plan of erp_take_existing for $BATCH new external ids (tenant: $BASE + $((ORDERS + WARM)) orders):"
printf '%s\n' "$TAKE_EXISTING_PLAN"
echo
echo "Checks:"
printf '%s' "$CHECKS"
if [[ ${BENCH_PERF:-0} == 1 && -f $OUT/perf-dso.txt ]]; then
  echo
  echo "perf (gateway-grpc run, whole system, % of samples by process / binary):"
  sed 's/^/  /' "$OUT/perf-dso.txt"
  echo "  (top symbols: $OUT/perf-symbols.txt)"
fi
echo
awk -F'\t' -v c="$COPY_OPS" '$1 == "gateway-grpc" { r = $2 / $3
  printf "TARGET ingest rows/s >= 0.5 x COPY: gateway gRPC %.0f / COPY %.0f rows/s = %.2fx  -> %s\n", r * 5, c * 5, r / c, (r / c >= 0.5 ? "MET" : "MISSED") }' <<<"$RESULTS"
awk -F'\t' -v c="$COPY_OPS" '$1 == "transaction-grpc" { r = $2 / $3
  printf "       (straight to the transaction service: %.0f / %.0f = %.2fx)\n", r * 5, c * 5, r / c }' <<<"$RESULTS"
echo "(the target is reported, not enforced: a MISSED target does not fail this script)"
echo "Raw outputs: $OUT; PostgreSQL log: $PG_LOG"

((FAILED_CHECKS == 0)) || bench_die "a correctness check failed (see Checks above)"
