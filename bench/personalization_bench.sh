#!/usr/bin/env bash
# Personalization (engine 3) at scale: BENCH_CUSTOMERS (1,000,000) customers,
# BENCH_PRODUCTS (100,000) products and BENCH_LINES (10,000,000) order lines
# in the engine's own tables (10 lines per customer in 3 orders, products
# drawn log-uniformly over 1..BENCH_PRODUCTS: a Zipf-like head, the most
# popular product in about 9 % of the lines), then:
#   - rebuild: the engine's start (every row read in time order, the model
#     built) from its "models loaded" log line, and its resident memory;
#   - recommendations: GetRecommendations through the gateway over REST (wrk
#     rotating over BENCH_QUERIED customers) and gRPC (h2load, one customer),
#     straight to the engine over gRPC (h2load, the same customer), next to
#     a bare C++ gRPC echo server answering the same bytes in the same run;
#     REST again with 4 connections (latency without queueing); the engine's
#     own latency histogram (crm_rpc_server_handling_seconds) over both REST
#     runs' many customers;
#   - next best offers: BENCH_OFFERS (20) offers, then NextBestOffers
#     (3 per call, each call's decisions logged) through the gateway over
#     REST, 64 and 4 connections, with the engine's histogram;
#   - incremental update: BENCH_ORDERS (20,000) order.placed events of 3
#     lines put on the streams at BENCH_ORDER_RATE (2,000/s), as the
#     transaction engine's relay would; the time until all are learnt and
#     the CPU per order event of the engine and of PostgreSQL.
# See bench/README.md, "personalization_bench.sh".
#
#   bench/personalization_bench.sh
#
# Starts its own PostgreSQL, Redis and every listed service under
# build/bench-run/personalization on private ports (test ports + 10800) and
# stops them on exit. Environment: BENCH_CUSTOMERS, BENCH_PRODUCTS,
# BENCH_LINES, BENCH_QUERIED (1000), BENCH_OFFERS, BENCH_ORDERS, BENCH_ORDER_RATE, and
# bench/lib.sh's BENCH_DURATION, BENCH_WARMUP, BENCH_H2_*, BENCH_WRK_CONNS.
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/personalization}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CUSTOMERS=${BENCH_CUSTOMERS:-1000000} PRODUCTS=${BENCH_PRODUCTS:-100000}
readonly LINES=${BENCH_LINES:-10000000} QUERIED=${BENCH_QUERIED:-1000}
readonly ORDERS=${BENCH_ORDERS:-20000} ORDER_RATE=${BENCH_ORDER_RATE:-2000}
((LINES % CUSTOMERS == 0)) || bench_die "BENCH_LINES must be a multiple of BENCH_CUSTOMERS"
readonly PER_CUSTOMER=$((LINES / CUSTOMERS))

readonly PG_PORT=55442 REDIS_PORT=56389 ECHO_GRPC=20891
bench_services 10800
P_GRPC=$(bench_port personalization grpc)
P_METRICS=$(bench_port personalization metrics)
GW_HTTP=$(bench_port gateway http)
GW_GRPC=$(bench_port gateway grpc)
readonly P_GRPC P_METRICS GW_HTTP GW_GRPC
readonly REST=http://127.0.0.1:$GW_HTTP
readonly METHOD=/crm.personalization.v1.PersonalizationService/GetRecommendations
readonly ECHO_METHOD=/crm.bench.v1.EchoService/Echo
readonly ECHO_BIN=$BUILD_DIR/bench/crm-bench-echo
OUT=$BENCH_RUN_DIR/out
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
bench_banner "personalization_bench: $CUSTOMERS customers, $PRODUCTS products, $LINES order lines"
bench_build_echo
bench_stack_prepare $PG_PORT $REDIS_PORT
bench_migrate
bench_bootstrap_tenant bench
readonly TENANT=$BENCH_TENANT KEY=$BENCH_KEY KEY_ID=$BENCH_KEY_ID

# ------------------------------------------------------------------ seed
bench_say "seeding $CUSTOMERS customers, $PRODUCTS products, $LINES order lines in SQL"
seed_start=$SECONDS
bench_psql_owner -v tenant="$TENANT" -v customers="$CUSTOMERS" -v products="$PRODUCTS" \
  -v lines="$LINES" -v per="$PER_CUSTOMER" <<'SQL'
BEGIN;
SET LOCAL app.tenant_id = :'tenant';
INSERT INTO personalization.customers (tenant_id, customer_id)
SELECT :'tenant', md5('pc-' || g)::uuid FROM generate_series(1, :customers) AS g;
INSERT INTO personalization.products (tenant_id, sku, category_path, active, version)
SELECT :'tenant', 'SKU-' || g, 'Dept' || (g % 20) || '/Cat' || (g % 400), true, 1
FROM generate_series(1, :products) AS g;
-- Line i: customer 1 + i / per, its order (i % per) / 4, a log-uniform sku,
-- a time in the last year.
INSERT INTO personalization.interactions (tenant_id, source, sku, user_key, signal, occurred_at)
SELECT :'tenant', 'order:' || (i / :per) || '-' || ((i % :per) / 4),
       'SKU-' || floor(exp(random() * ln(:products)))::int,
       md5('pc-' || (1 + i / :per))::uuid::text, 3,
       now() - random() * interval '365 days'
FROM generate_series(0, :lines - 1) AS i
ON CONFLICT DO NOTHING;
COMMIT;
ANALYZE personalization.customers, personalization.products, personalization.interactions;
SQL
STORED=$(bench_psql_owner -At -v tenant="$TENANT" <<'SQL'
SET app.tenant_id = :'tenant';
SELECT count(*) FROM personalization.interactions;
SQL
)
bench_say "seeded in $((SECONDS - seed_start))s: $STORED interactions (repeats of a sku within an order are one)"

# ------------------------------------------------------------------ start (rebuild)
BENCH_SVC_ENV[gateway]="CRM_DEFAULT_RATE_LIMIT=1000000"
BENCH_READY_TIMEOUT=900
bench_start_services
LOADED=$(grep -m1 '"models loaded"' "$BENCH_RUN_DIR/logs/personalization.log") ||
  bench_die "no 'models loaded' line in the personalization log"
field() { sed -E 's/.*"'"$1"'":([0-9.]+).*/\1/' <<<"$LOADED"; }
REBUILD_S=$(field rebuild_seconds)
P_PID=$(bench_pid_of personalization)
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$P_PID/status")
bench_say "rebuild ${REBUILD_S}s: users $(field users), items $(field items), pairs $(field pairs); RSS $((RSS_KB / 1024)) MiB"

# ------------------------------------------------------------------ reads
STEP=$((CUSTOMERS / QUERIED))
((STEP >= 1)) || bench_die "BENCH_QUERIED ($QUERIED) > BENCH_CUSTOMERS ($CUSTOMERS)"
bench_psql_owner -At -v n="$CUSTOMERS" -v step="$STEP" >"$OUT/ids.txt" <<'SQL'
SELECT md5('pc-' || g)::uuid FROM generate_series(1, :n) AS g WHERE g % :step = 0 ORDER BY g;
SQL
FIRST_ID=$(head -n1 "$OUT/ids.txt")
bench_grpc frame --customer-id "$FIRST_ID" --out "$OUT/request.bin"
read -r warmed _ _ < <(bench_grpc warm "127.0.0.1:$GW_GRPC" "$METHOD" --ids "$OUT/ids.txt" \
  --md "authorization=Bearer $KEY" --out-first "$OUT/response.bin")
[[ ${warmed:-0} -eq $QUERIED ]] || bench_die "asking the $QUERIED customers once failed"
RESP_BYTES=$(stat -c %s "$OUT/response.bin")

bench_start echo -- "$ECHO_BIN" --port $ECHO_GRPC --response-file "$OUT/response.bin" --max-seconds 1800
bench_wait_for echo 15 bench_grpc call "127.0.0.1:$ECHO_GRPC" "$ECHO_METHOD"
BENCH_CPU_COMPONENTS=("echo=$(bench_pid_of echo)" "gateway=$(bench_pid_of gateway)"
  "personalization=$P_PID" postgres)

# The engine's latency histogram of one method (GetRecommendations unless
# named): "le count" lines.
engine_buckets() {
  curl -s --max-time 5 "http://127.0.0.1:$P_METRICS/metrics" |
    grep '^crm_rpc_server_handling_seconds_bucket{' | grep "method=\"${1:-GetRecommendations}\"" |
    sed -E 's/.*le="([^"]+)".* ([0-9.e+]+)$/\1 \2/'
}

bench_h2load echo-grpc "http://127.0.0.1:$ECHO_GRPC$ECHO_METHOD" "$OUT/request.bin" "$RESP_BYTES"
bench_h2load gateway-grpc "http://127.0.0.1:$GW_GRPC$METHOD" "$OUT/request.bin" "$RESP_BYTES" \
  "authorization: Bearer $KEY"
bench_h2load engine-grpc "http://127.0.0.1:$P_GRPC$METHOD" "$OUT/request.bin" "$RESP_BYTES" \
  "x-crm-tenant-id: $TENANT" "x-crm-principal: $KEY_ID" "x-crm-roles: admin" \
  "x-crm-context-seal: $(bench_context_seal "$TENANT" "$KEY_ID" admin)"
# Share of a run's calls the engine answered within each bound (cumulative
# bucket counts before and after the run, side by side).
engine_hist() {
  paste -d' ' "$1" "$2" | awk '
  { le[NR] = $1; n[NR] = $4 - $2 } END {
    total = n[NR]; if (total <= 0) { print "no calls"; exit }
    for (i = 1; i <= NR; i++) if (le[i] == "0.001" || le[i] == "0.0025" || le[i] == "0.005")
      printf "%.2f%% <= %g ms, ", 100 * n[i] / total, le[i] * 1000
    for (i = 1; i <= NR; i++) if (n[i] >= 0.5 * total) { p50 = le[i]; break }
    for (i = 1; i <= NR; i++) if (n[i] >= 0.99 * total) { p99 = le[i]; break }
    printf "p50 <= %g ms, p99 <= %g ms (%d calls)", p50 * 1000, p99 * 1000, total }'
}
export BENCH_API_KEY=$KEY  # view.lua reads the key from the environment
# Saturated (BENCH_WRK_CONNS connections), then light: 4 connections, the
# latency a caller sees when the engine is not queueing.
engine_buckets >"$OUT/buckets.before"
bench_wrk gateway-rest "$REST" "$BENCH_DIR/view.lua" "$OUT/ids.txt" \
  "/v1/customers/%s/recommendations"
engine_buckets >"$OUT/buckets.after"
BENCH_WRK_CONNS=4 bench_wrk gateway-rest-4conns "$REST" "$BENCH_DIR/view.lua" "$OUT/ids.txt" \
  "/v1/customers/%s/recommendations"
engine_buckets >"$OUT/buckets.light"
bench_h2load echo-grpc-again "http://127.0.0.1:$ECHO_GRPC$ECHO_METHOD" "$OUT/request.bin" "$RESP_BYTES"
ENGINE_HIST=$(engine_hist "$OUT/buckets.before" "$OUT/buckets.after")
ENGINE_HIST_LIGHT=$(engine_hist "$OUT/buckets.after" "$OUT/buckets.light")

# ------------------------------------------------------------------ next best offers
# BENCH_OFFERS (20) offers: a quarter with a rule (segmentation evaluates it
# on every call, MatchCustomer), a quarter cross-sells of popular products
# (relevance from the customer's recommendations), the rest content; no
# caps: every call logs three decisions and publishes their
# offers.presented event, as users would.
readonly OFFERS=${BENCH_OFFERS:-20}
for ((i = 1; i <= OFFERS; i++)); do
  case $((i % 4)) in
    0) extra=',"rule":"orders(365d) >= 1"' kind=OFFER_KIND_CONTENT ;;
    1) extra=',"skus":["SKU-'"$i"'"]' kind=OFFER_KIND_CROSS_SELL ;;
    *) extra='' kind=OFFER_KIND_CONTENT ;;
  esac
  curl -sf -o /dev/null -X POST "$REST/v1/offers?requestId=bench-offer-$i"     -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json'     -d '{"offerId":"offer-'"$i"'","displayName":"Offer '"$i"'","kind":"'"$kind"'","valueMinor":"'"$((100 * i))"'","content":"<p>offer '"$i"'</p>"'"$extra"'}' ||
    bench_die "creating offer $i failed"
done
# One call first, so that the engine's histogram of the method exists.
curl -sf -o /dev/null -X POST "$REST/v1/customers/$FIRST_ID:nextBestOffers" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{}' ||
  bench_die "a first next-best-offers call failed"
engine_buckets NextBestOffers >"$OUT/nbo.before"
bench_wrk nbo-rest "$REST" "$BENCH_DIR/post_each.lua" "$OUT/ids.txt"   "/v1/customers/%s:nextBestOffers" '{"count":3}'
engine_buckets NextBestOffers >"$OUT/nbo.after"
BENCH_WRK_CONNS=4 bench_wrk nbo-rest-4conns "$REST" "$BENCH_DIR/post_each.lua" "$OUT/ids.txt" \
  "/v1/customers/%s:nextBestOffers" '{"count":3}'
engine_buckets NextBestOffers >"$OUT/nbo.light"
NBO_HIST=$(engine_hist "$OUT/nbo.before" "$OUT/nbo.after")
NBO_HIST_LIGHT=$(engine_hist "$OUT/nbo.after" "$OUT/nbo.light")
NBO_DECISIONS=$(bench_psql_owner -At -v tenant="$TENANT" <<'SQL'
SET app.tenant_id = :'tenant';
SELECT count(*) FROM personalization.offer_decisions;
SQL
)

# ------------------------------------------------------------------ writes
STUBS=$BENCH_RUN_DIR/py
rm -rf "$STUBS"
"$BENCH_PY" "$BENCH_DIR/import_client.py" protos "$STUBS" || bench_die "generating the Python stubs failed"
count_bench_rows() {
  bench_psql_owner -At -v tenant="$TENANT" <<'SQL'
SET app.tenant_id = :'tenant';
SELECT count(*) FROM personalization.interactions WHERE source LIKE 'order:bench-%';
SQL
}
bench_say "injecting $ORDERS order events at $ORDER_RATE/s"
before=$(bench_cpu_snapshot)
inject_start=$(date +%s.%N)
read -r sent inject_s < <(PYTHONPATH=$BENCH_DIR "$BENCH_PY" "$BENCH_DIR/personalization_client.py" \
  inject "$REDIS_PORT" "$STUBS" "$TENANT" "$CUSTOMERS" "$PRODUCTS" "$ORDERS" "$ORDER_RATE")
# Learnt: every order's rows stored (the model is updated in the same
# handler, right after the commit). A line repeating a sku of its order is
# one row, so the count settles below 3 per order: wait until it stops.
last=-1
for ((i = 0; i < 600; i++)); do
  now_rows=$(count_bench_rows)
  [[ $now_rows == "$last" && $now_rows -gt 0 ]] && break
  last=$now_rows
  sleep 1
done
learnt_s=$(awk -v a="$inject_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a - 1 }')
after=$(bench_cpu_snapshot)
WRITE_CPU=$(bench_cpu_delta "$before" "$after" "$sent" 0 | cut -f1)

# ------------------------------------------------------------------ report
echo
echo "== results ($(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores SHARED by load generator and servers)"
echo "Data: $STORED stored order lines of $CUSTOMERS customers over $PRODUCTS products."
echo "Rebuild at start: ${REBUILD_S} s ($(field interactions) rows read; $(field users) customers,"
echo "  $(field items) products, $(field pairs) co-occurrence counts); resident memory after it:"
echo "  $((RSS_KB / 1024)) MiB ($(awk -v r="$RSS_KB" -v n="$(field interactions)" 'BEGIN { printf "%.0f", r * 1024 / n }') bytes per stored line)."
echo "Reply: GetRecommendations (10 products) = $RESP_BYTES bytes protobuf; the echo server returns the same bytes."
echo "Load: gRPC h2load -c $BENCH_H2_CONNS -m $BENCH_H2_STREAMS (one customer, $FIRST_ID); REST wrk -c $BENCH_WRK_CONNS"
echo "      rotating over $QUERIED customers; each run ${BENCH_WARMUP}s warm-up + ${BENCH_DURATION}s measured."
bench_report echo-grpc
echo
echo "Engine-side latency of GetRecommendations (its histogram, receipt to completion):"
echo "  REST run, $BENCH_WRK_CONNS connections: $ENGINE_HIST"
echo "  REST run, 4 connections: $ENGINE_HIST_LIGHT"
echo "Next best offers (3 of $OFFERS offers per call, each call's claims and decision log written):"
echo "  engine-side, $BENCH_WRK_CONNS connections: $NBO_HIST"
echo "  engine-side, 4 connections: $NBO_HIST_LIGHT"
echo "  decisions logged: $(tail -n1 <<<"$NBO_DECISIONS")"
echo "Incremental update: $sent order events (3 lines) sent in ${inject_s}s, all learnt within ${learnt_s}s"
echo "  of the first send; CPU per 1000 order events (ms): $WRITE_CPU"
gw=$(bench_rps_of gateway-grpc) eng=$(bench_rps_of engine-grpc) echo_rps=$(bench_rps_of echo-grpc)
awk -v g="$gw" -v e="$eng" -v c="$echo_rps" 'BEGIN {
  printf "Ratios to the echo ceiling: gateway gRPC %.2fx, engine gRPC %.2fx\n", g / c, e / c }'
exit "$BENCH_FAILED"
