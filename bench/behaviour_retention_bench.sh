#!/usr/bin/env bash
# Behaviour retention: how fast customer-store's retention job deletes a
# tenant's expired events, next to one bare DELETE of the same rows:
#   - seed: BENCH_EVENTS (1,000,000) events of the tenant spread over four
#     months 120..240 days ago, BENCH_EVENTS / 10 of the last 10 days (kept),
#     and BENCH_EVENTS / 10 of a second tenant without retention in one old
#     month (kept: its month is not dropped);
#   - ceiling: the expired rows deleted by ONE `DELETE ... WHERE tenant_id =
#     .. AND occurred_at < cutoff` as superuser (no row-level security, one
#     transaction, no batching), then written back with COPY and vacuumed;
#   - job: PATCH /v1/behaviour/settings {"retentionDays": 30} through the
#     gateway; customer-store's job (CRM_BEHAVIOUR_RETENTION_CHECK=1s, its
#     rounds of at most 100 batches of 5,000 rows in their own tenant
#     transactions, a second apart while a backlog remains) deletes them; the
#     time runs from the PATCH's answer until none is left. Empty months
#     are then dropped.
# The kept rows are counted before and after: a job that deleted them could
# not pass for speed. See bench/README.md, "behaviour_retention_bench.sh".
#
#   bench/behaviour_retention_bench.sh
#
# Starts its own PostgreSQL, Redis and every listed service under
# build/bench-run/behaviour-retention on private ports (test ports + 10700)
# and stops them on exit. Environment: BENCH_EVENTS (1000000).
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/behaviour-retention}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly EVENTS=${BENCH_EVENTS:-1000000}
readonly PG_PORT=55441 REDIS_PORT=56388
bench_services 10700
GW_HTTP=$(bench_port gateway http)
readonly REST=http://127.0.0.1:$GW_HTTP
OUT=$BENCH_RUN_DIR/out
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
bench_banner "behaviour_retention_bench: the retention job vs one DELETE of the same $EVENTS rows"
bench_cpu_note
bench_stack_prepare $PG_PORT $REDIS_PORT
bench_migrate
BENCH_SVC_ENV[customer-store]="CRM_BEHAVIOUR_RETENTION_CHECK=1s"
bench_start_services
bench_bootstrap_tenant bench-retention-keeper
KEEPER=$BENCH_TENANT
bench_bootstrap_tenant bench-retention
bench_say "tenant $BENCH_TENANT (retention 30 days), keeper $KEEPER (none)"

bench_say "seeding $EVENTS expired events, $((EVENTS / 10)) recent ones and $((EVENTS / 10)) of the keeper"
bench_psql_super -v tenant="$BENCH_TENANT" -v keeper="$KEEPER" -v n="$EVENTS" >/dev/null <<'SQL'
SELECT customer_store.ensure_behaviour_partitions(now() - interval '240 days', now());
INSERT INTO customer_store.behaviour_events
    (tenant_id, id, occurred_at, received_at, type, visitor_id, properties, ip_prefix, device_class)
  SELECT :'tenant', gen_random_uuid(),
         now() - interval '120 days' - (g % 120) * interval '1 day' - (g % 86400) * interval '1 second',
         now(), 'page.viewed', 'v-' || (g % 50000),
         jsonb_build_object('path', '/p/' || (g % 5000), 'utm_campaign', 'winter'), '203.0.113.0', 1
  FROM generate_series(1, :n) g;
INSERT INTO customer_store.behaviour_events
    (tenant_id, id, occurred_at, received_at, type, visitor_id, properties)
  SELECT :'tenant', gen_random_uuid(), now() - (g % 10) * interval '1 day' - interval '1 hour',
         now(), 'page.viewed', 'v-' || (g % 50000), '{"path": "/"}'
  FROM generate_series(1, :n / 10) g;
INSERT INTO customer_store.behaviour_events
    (tenant_id, id, occurred_at, received_at, type, visitor_id, properties)
  SELECT :'keeper', gen_random_uuid(),
         date_trunc('month', now() - interval '200 days') + interval '1 day' + (g % 20) * interval '1 hour',
         now(), 'page.viewed', 'v-' || g, '{"path": "/"}'
  FROM generate_series(1, :n / 10) g;
VACUUM ANALYZE customer_store.behaviour_events;
SQL

count_rows() {  # TENANT CONDITION
  bench_psql_super -At -c "SELECT count(*) FROM customer_store.behaviour_events WHERE tenant_id = '$1' AND $2"
}
months() {
  bench_psql_super -At -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'customer_store.behaviour_events'::regclass"
}
readonly EXPIRED="occurred_at < now() - interval '30 days'" KEPT="occurred_at >= now() - interval '30 days'"
[[ $(count_rows "$BENCH_TENANT" "$EXPIRED") == "$EVENTS" ]] || bench_die "seeding failed"
KEPT_BEFORE=$(count_rows "$BENCH_TENANT" "$KEPT")
KEEPER_BEFORE=$(count_rows "$KEEPER" true)
MONTHS_BEFORE=$(months)

# The ceiling: one DELETE of the expired rows, then the same rows back.
ROWS_FILE=$BENCH_PG_HOME/expired.tsv
bench_psql_super -c "\\copy (SELECT * FROM customer_store.behaviour_events WHERE tenant_id = '$BENCH_TENANT' AND $EXPIRED) TO '$ROWS_FILE'" >/dev/null
t0=$(date +%s.%N)
bench_psql_super -c "DELETE FROM customer_store.behaviour_events WHERE tenant_id = '$BENCH_TENANT' AND $EXPIRED" >/dev/null
t1=$(date +%s.%N)
DELETE_S=$(echo "$t1 - $t0" | bc -l)
bench_psql_super -c "VACUUM customer_store.behaviour_events" >/dev/null
bench_psql_super -c "\\copy customer_store.behaviour_events FROM '$ROWS_FILE'" >/dev/null
bench_psql_super -c "VACUUM ANALYZE customer_store.behaviour_events" >/dev/null
[[ $(count_rows "$BENCH_TENANT" "$EXPIRED") == "$EVENTS" ]] || bench_die "the rows did not come back"

# The job.
BENCH_CPU_COMPONENTS=("customer-store=$(bench_pid_of customer-store)" "postgres=")
CPU_BEFORE=$(bench_cpu_snapshot)
R=$(curl -sS --max-time 30 -X PATCH -H "Authorization: Bearer $BENCH_KEY" -H 'Content-Type: application/json' \
  -d '{"retentionDays": 30}' "$REST/v1/behaviour/settings?requestId=bench-retention")
[[ $(jq -r .retentionDays <<<"$R") == 30 ]] || bench_die "PATCH /v1/behaviour/settings: $R"
t0=$(date +%s.%N)
deadline=$(($(date +%s) + 1800))
while [[ $(count_rows "$BENCH_TENANT" "$EXPIRED") != 0 ]]; do
  (($(date +%s) < deadline)) || bench_die "expired events still there after 30 minutes"
  sleep 0.2
done
t1=$(date +%s.%N)
JOB_S=$(echo "$t1 - $t0" | bc -l)
CPU=$(bench_cpu_delta "$CPU_BEFORE" "$(bench_cpu_snapshot)" "$EVENTS" 0 | cut -f1 | sed 's/^loadgen=[^ ]* //')
# The month drop follows the deletes in the same round.
sleep 3
MONTHS_AFTER=$(months)
KEPT_AFTER=$(count_rows "$BENCH_TENANT" "$KEPT")
KEEPER_AFTER=$(count_rows "$KEEPER" true)
[[ $KEPT_AFTER == "$KEPT_BEFORE" && $KEEPER_AFTER == "$KEEPER_BEFORE" ]] ||
  bench_die "kept rows changed: tenant $KEPT_BEFORE -> $KEPT_AFTER, keeper $KEEPER_BEFORE -> $KEEPER_AFTER"
# grep -c prints 0 and exits 1 when no line matches: a count, not a failure.
ROUNDS=$(grep -c '"rows past their retention purged"' "$BENCH_RUN_DIR/logs/customer-store.log" || true)

JOB_RPS=$(awk -v n="$EVENTS" -v s="$JOB_S" 'BEGIN { printf "%.0f", n / s }')
DELETE_RPS=$(awk -v n="$EVENTS" -v s="$DELETE_S" 'BEGIN { printf "%.0f", n / s }')
echo
echo "Deleted $EVENTS expired events of one tenant; kept its $KEPT_BEFORE recent ones and the keeper's $KEEPER_BEFORE."
echo "Monthly partitions: $MONTHS_BEFORE before, $MONTHS_AFTER after (the default one included)."
echo "Job rounds that deleted rows: $ROUNDS. CPU during the job, ms per 1,000 rows: $CPU"
printf '  %-60s %10s rows/s  (%.2f s)\n' "retention job (PATCH answered -> none left)" "$JOB_RPS" "$JOB_S"
printf '  %-60s %10s rows/s  (%.2f s)\n' "one DELETE of the same rows (superuser, one transaction)" "$DELETE_RPS" "$DELETE_S"
echo "  ratio: $(awk -v a="$JOB_RPS" -v c="$DELETE_RPS" 'BEGIN { printf "%.2f", a / c }')x one DELETE"
