#!/usr/bin/env bash
# Live segments at scale: CDNOW_master.txt replicated to about a million
# customers (purchases in the segmentation engine's own table, dates shifted
# to end yesterday), BENCH_SEGMENTS (100) three-condition segments plus
# "bought-last-hour" (purchased(1h)) created straight on the service, then:
#   - memory: the service's resident set per customer, and the first
#     create's time (it loads the tenant: the rebuild);
#   - count: GetSegment's live count of a three-condition segment next to the
#     same count in SQL over the same rows in PostgreSQL (and the dry run,
#     PreviewSegment, which evaluates everyone);
#   - event -> segment.entered: order.placed envelopes put straight on the
#     event streams (as the transaction engine's relay would) at BENCH_RATE
#     per second for BENCH_DURATION_S, each a new purchase of a distinct
#     customer, and the latency from the envelope's send to the commit of the
#     membership transaction that holds its segment.entered outbox row
#     (track_commit_timestamp), p50/p99; the same at BENCH_LOW_RATE (the
#     floor the consumer's polling sets); a one-row INSERT commit (pgbench)
#     is the ceiling of one transaction.
# See bench/README.md, "live_segments_bench.sh".
#
#   bench/live_segments_bench.sh
#
# Starts its own PostgreSQL, Redis and every listed service under
# build/bench-run/live-segments on private ports (test ports + 10500) and
# stops them on exit. Environment: BENCH_REPLICAS (43: 1,013,510 customers),
# BENCH_SEGMENTS (100), BENCH_RATE (5000), BENCH_DURATION_S (10),
# BENCH_LOW_RATE (50), BENCH_SEG_REPLICAS (1; 2: two segmentation replicas,
# each holding half the event partitions, segments created and counted
# through replica 0), CRM_SHARED_DATA_DIR (../shared/data).
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/live-segments}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly REPLICAS=${BENCH_REPLICAS:-43} SEGMENTS=${BENCH_SEGMENTS:-100}
readonly RATE=${BENCH_RATE:-5000} DURATION_S=${BENCH_DURATION_S:-10} LOW_RATE=${BENCH_LOW_RATE:-50}
readonly SEG_REPLICAS=${BENCH_SEG_REPLICAS:-1}
[[ $SEG_REPLICAS == 1 || $SEG_REPLICAS == 2 ]] || bench_die "BENCH_SEG_REPLICAS must be 1 or 2"
MASTER=$(bench_cdnow_master)
readonly MASTER

readonly PG_PORT=55439 REDIS_PORT=56386
bench_services 10500
SEG_GRPC=$(bench_port segmentation grpc)
readonly SEG_GRPC
readonly CLIENT=$BENCH_DIR/live_segments_client.py
OUT=$BENCH_RUN_DIR/out
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
bench_banner "live_segments_bench: ~1M customers, $SEGMENTS segments"

bench_stack_prepare $PG_PORT $REDIS_PORT
bench_psql_super -c "ALTER SYSTEM SET track_commit_timestamp = on" >/dev/null
bench_pg_restart
bench_migrate
if [[ $SEG_REPLICAS == 2 ]]; then
  # Replica 1 listens 100 ports above replica 0 (the list's segmentation).
  SEG1_GRPC=$((SEG_GRPC + 100))
  SEG_LIST="CRM_SEGMENTATION_REPLICAS=127.0.0.1:$SEG_GRPC,127.0.0.1:$SEG1_GRPC"
  BENCH_SVC_ENV[segmentation]="$SEG_LIST CRM_SEGMENTATION_ORDINAL=0"
fi
bench_start_services
SEG_NAMES=(segmentation)
if [[ $SEG_REPLICAS == 2 ]]; then
  BENCH_SVC_ENV[segmentation]="$SEG_LIST CRM_SEGMENTATION_ORDINAL=1 CRM_GRPC_PORT=$SEG1_GRPC CRM_METRICS_PORT=$(($(bench_port segmentation metrics) + 100))"
  bench_start_service segmentation segmentation-1
  bench_wait_for segmentation-1 30 bench_grpc health "127.0.0.1:$SEG1_GRPC"
  SEG_NAMES+=(segmentation-1)
fi

TENANT=$("$BENCH_PY" -c 'import uuid; print(uuid.uuid4())')
STUBS=$BENCH_RUN_DIR/py
rm -rf "$STUBS"
"$BENCH_PY" "$BENCH_DIR/import_client.py" protos "$STUBS" || bench_die "generating the Python stubs failed"

bench_say "writing the rows ($REPLICAS replicas of CDNOW_master.txt, ending yesterday)"
read -r ROWS CUSTOMERS < <("$BENCH_PY" "$CLIENT" rows "$MASTER" "$REPLICAS" "$TENANT" "$OUT/purchases.tsv")
t0=$(date +%s.%N)
bench_psql_super -c "\\copy segmentation.purchases (tenant_id, order_id, customer_id, placed_by, placed_at, currency_code, net_minor, status, version) FROM '$OUT/purchases.tsv'" >/dev/null
t1=$(date +%s.%N)
bench_psql_super -c "VACUUM ANALYZE segmentation.purchases" >/dev/null
COPY_S=$(echo "$t1 - $t0" | bc -l)
bench_say "$ROWS purchases of $CUSTOMERS customers (COPY ${COPY_S}s)"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(bench_pid_of "$1")/status"; }
rss_each() { local n; for n in "${SEG_NAMES[@]}"; do echo -n "$(rss_kb "$n") "; done; }
rss_sum() { local n t=0; for n in "${SEG_NAMES[@]}"; do t=$((t + $(rss_kb "$n"))); done; echo "$t"; }
RSS_BEFORE=$(rss_sum)
RSS_EACH_BEFORE=$(rss_each)
bench_say "creating $SEGMENTS segments + bought-last-hour"
CREATED=$("$BENCH_PY" "$CLIENT" segments "127.0.0.1:$SEG_GRPC" "$STUBS" "$TENANT" "$CONTEXT_KEY" "$SEGMENTS")
RSS_AFTER=$(rss_sum)
RSS_EACH_AFTER=$(rss_each)

# The count: segment s002 (COUNT_SEGMENT of bench/live_segments_client.py:
# NOT purchased(365d) AND orders(3650d) >= 3 AND spent(3650d) >= 100) and the
# same in SQL over the same rows.
COUNTED=$("$BENCH_PY" "$CLIENT" count "127.0.0.1:$SEG_GRPC" "$STUBS" "$TENANT" "$CONTEXT_KEY")
COUNT_EXPR=$(jq -r .expression <<<"$COUNTED")
SQL="SELECT count(*) FROM (SELECT customer_id FROM segmentation.purchases WHERE tenant_id = '$TENANT' AND status NOT IN ('cancelled', 'returned') AND currency_code = 'USD' AND placed_at > now() - interval '3650 days' AND placed_at <= now() GROUP BY customer_id HAVING count(*) >= 3 AND sum(net_minor) >= 10000 AND max(placed_at) <= now() - interval '365 days') members"
SQL_MS=()
SQL_COUNT=""
for _ in 1 2 3; do
  s0=$(date +%s%N)
  SQL_COUNT=$(bench_psql_super -A -t -c "$SQL")
  s1=$(date +%s%N)
  SQL_MS+=("$(((s1 - s0) / 1000000))")
done
SQL_MED=$(printf '%s\n' "${SQL_MS[@]}" | sort -n | sed -n 2p)

# Event -> segment.entered.
latency_run() {  # RATE SECONDS LABEL
  local sent file=$OUT/sent-$3.tsv
  read -r sent ACHIEVED < <("$BENCH_PY" "$CLIENT" inject "$REDIS_PORT" "$STUBS" "$MASTER" "$TENANT" \
    "$REPLICAS" "$1" "$2" "$file")
  # Wait until every sent customer entered (or 120 s).
  local i n=0
  for ((i = 0; i < 600; i++)); do
    bench_psql_super -c "DROP TABLE IF EXISTS bench_sent; CREATE TABLE bench_sent (customer_id uuid, sent_us bigint)" >/dev/null
    bench_psql_super -c "\\copy bench_sent FROM '$file'" >/dev/null
    n=$(bench_psql_super -A -t -c "SELECT count(*) FROM bench_sent s JOIN segmentation.outbox o ON o.tenant_id = '$TENANT' AND o.customer_id = s.customer_id AND o.event_type = 'segment.entered' AND o.payload->>'segment_id' = 'bought-last-hour'")
    [[ $n -ge $sent ]] && break
    sleep 0.2
  done
  # written: the membership transaction's start (the outbox row's
  # occurred_at, now() of that transaction); published: the commit of the
  # relay's transaction that marked the row published after adding it to
  # the stream (its xmin since that update).
  bench_psql_super -A -t -F ' ' -c "SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY w)::numeric, 2), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY w)::numeric, 2), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY p)::numeric, 2), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY p)::numeric, 2), round(max(p)::numeric, 2) FROM (SELECT extract(epoch from o.occurred_at) * 1000 - s.sent_us / 1000.0 AS w, extract(epoch from pg_xact_commit_timestamp(o.xmin)) * 1000 - s.sent_us / 1000.0 AS p FROM bench_sent s JOIN segmentation.outbox o ON o.tenant_id = '$TENANT' AND o.customer_id = s.customer_id AND o.event_type = 'segment.entered' AND o.payload->>'segment_id' = 'bought-last-hour') l" |
    { read -r got w50 w99 p50 p99 max; echo "$3 $sent $ACHIEVED $got $w50 $w99 $p50 $p99 $max"; }
}
# The creates published one segment.entered per member onto the streams,
# and every service's consumer group reads them all: measure the latency in
# the steady state, once every group has caught up (Redis 7 XINFO GROUPS:
# lag and pending of each group on each partition).
backlog() {
  local p total=0 v
  for ((p = 0; p < 8; p++)); do
    v=$(redis-cli -p "$REDIS_PORT" XINFO GROUPS "crm:events:p$p" 2>/dev/null |
      awk 'prev == "lag" || prev == "pending" { s += ($0 == "" ? 0 : $0) } { prev = $0 } END { print s + 0 }')
    total=$((total + v))
  done
  echo "$total"
}
bench_say "waiting for every consumer group to read the creates' member events ($(backlog) behind)"
d0=$(date +%s)
for ((i = 0; i < 1800; i++)); do
  [[ $(backlog) -eq 0 ]] && break
  sleep 1
done
DRAIN_S=$(($(date +%s) - d0))
bench_say "caught up after ${DRAIN_S}s ($(backlog) behind)"
bench_say "event -> segment.entered at $LOW_RATE/s, then $RATE/s"
LOW=$(latency_run "$LOW_RATE" 10 low)
HIGH=$(latency_run "$RATE" "$DURATION_S" high)

# The ceiling of one transaction: a one-row INSERT commit, one client.
bench_psql_super -c "CREATE TABLE IF NOT EXISTS bench_one (id bigserial, v int)" >/dev/null
echo "INSERT INTO bench_one (v) VALUES (1);" >"$OUT/one.sql"
chmod a+r "$OUT/one.sql"
PGB=$(runuser -u postgres -- pgbench -n -c 1 -T 5 -f "$OUT/one.sql" -h "$BENCH_PG_HOME/sock" -p "$BENCH_PG_PORT" crm 2>&1 |
  awk '/latency average/ { print $4 }')

echo
echo "Purchases: $ROWS rows of $CUSTOMERS customers (COPY ${COPY_S%.*}s); segments: $(jq -r .segments <<<"$CREATED")."
printf 'Create: the first %.1f s (loads the tenant and evaluates everyone), the others %.2f s mean (p50 %.2f, max %.2f).\n' \
  "$(jq -r .first_s <<<"$CREATED")" "$(jq -r .others_mean_s <<<"$CREATED")" "$(jq -r .others_p50_s <<<"$CREATED")" "$(jq -r .others_max_s <<<"$CREATED")"
echo "Members: $(jq -c '[.member_counts[]] | {min: min, max: max, total: add}' <<<"$CREATED")"
echo "  per segment: $(jq -c .member_counts <<<"$CREATED")"
echo "The member events of the creates took every consumer group ${DRAIN_S} s to read through."
echo "segmentation resident memory ($SEG_REPLICAS replica(s), summed): $((RSS_BEFORE / 1024)) MiB before, $((RSS_AFTER / 1024)) MiB after: $(((RSS_AFTER - RSS_BEFORE) * 1024 / CUSTOMERS)) bytes per customer."
echo "  per replica, KiB before: $RSS_EACH_BEFORE; after: $RSS_EACH_AFTER"
echo
echo "Count of s002 ($COUNT_EXPR):"
printf '  %-44s %12s %10s\n' "" "count" "ms"
printf '  %-44s %12s %10.2f   p99 %.2f ms\n' "GetSegment (live count)" "$(jq -r .count <<<"$COUNTED")" "$(jq -r .get_p50_ms <<<"$COUNTED")" "$(jq -r .get_p99_ms <<<"$COUNTED")"
printf '  %-44s %12s %10s   (median of 3)\n' "SQL over the same rows (ceiling to beat)" "$SQL_COUNT" "$SQL_MED"
printf '  %-44s %12s %10.0f\n' "PreviewSegment (dry run over everyone)" "$(jq -r .preview_count <<<"$COUNTED")" "$(jq -r .preview_median_ms <<<"$COUNTED")"
printf '  live count is %.0fx faster than the SQL\n' "$(echo "$SQL_MED / $(jq -r .get_p50_ms <<<"$COUNTED")" | bc -l)"
echo
echo "Event -> segment.entered (ms): written = the membership transaction starts; published = on the stream"
printf '  %-6s %8s %9s %8s %11s %11s %13s %13s %9s\n' run sent "sent/s" entered "written p50" "written p99" "published p50" "published p99" max
for line in "$LOW" "$HIGH"; do
  # shellcheck disable=SC2086
  printf '  %-6s %8s %9s %8s %11s %11s %13s %13s %9s\n' $line
done
echo "  ceiling: one-row INSERT commit on this PostgreSQL (pgbench, 1 client): ${PGB} ms"
