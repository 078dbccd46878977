#!/usr/bin/env bash
# Lifetime-value refit at scale: CDNOW_master.txt replicated to about a
# million customers (BENCH_REPLICAS x 23,570; replica k's dates shifted by
# k % 28 days) as purchases in the segmentation engine's own table, then one
# RefitClvModel straight to the service (BG/NBD + Gamma-Gamma by maximum
# likelihood, model stored through the unit of work). Reported next to the
# raw COPY of the same rows into the same table, measured in the same run
# (the refit reads every one of them back), and the service's resident memory
# before and after (see bench/README.md, "segmentation_bench.sh").
#
#   bench/segmentation_bench.sh
#
# Starts its own PostgreSQL, Redis and every listed service under
# build/bench-run/segmentation on private ports (test ports + 10400) and stops
# them on exit. Exit status 0 when the refit answered a model fitted on every
# customer. Environment: BENCH_REPLICAS (default 43: 1,013,510 customers,
# 2,995,337 purchases), CRM_SHARED_DATA_DIR (default ../shared/data).
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/segmentation}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly REPLICAS=${BENCH_REPLICAS:-43}
MASTER=$(bench_cdnow_master)
readonly MASTER

readonly PG_PORT=55438 REDIS_PORT=56385
bench_services 10400
SEG_GRPC=$(bench_port segmentation grpc)
readonly SEG_GRPC
readonly CLIENT=$BENCH_DIR/refit_client.py
OUT=$BENCH_RUN_DIR/out
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
bench_banner "segmentation_bench: CLV refit of ~1M customers vs raw COPY of their purchases"

bench_stack_prepare $PG_PORT $REDIS_PORT
bench_migrate
bench_start_services

TENANT=$("$BENCH_PY" -c 'import uuid; print(uuid.uuid4())')
STUBS=$BENCH_RUN_DIR/py
rm -rf "$STUBS"
"$BENCH_PY" "$BENCH_DIR/import_client.py" protos "$STUBS" || bench_die "generating the Python stubs failed"

bench_say "writing the rows ($REPLICAS replicas of CDNOW_master.txt)"
read -r ROWS CUSTOMERS < <("$BENCH_PY" "$CLIENT" rows "$MASTER" "$REPLICAS" "$TENANT" "$OUT/purchases.tsv")
bench_say "$ROWS purchases of $CUSTOMERS customers"

# The ceiling: COPY of the rows into segmentation.purchases (as the superuser:
# COPY FROM is refused under the table's forced row-level security).
t0=$(date +%s.%N)
bench_psql_super -c "\\copy segmentation.purchases (tenant_id, order_id, customer_id, placed_by, placed_at, currency_code, net_minor, status, version) FROM '$OUT/purchases.tsv'" >/dev/null
t1=$(date +%s.%N)
bench_psql_super -c "VACUUM ANALYZE segmentation.purchases" >/dev/null
COPY_S=$(echo "$t1 - $t0" | bc -l)

SEG_PID=$(bench_pid_of segmentation)
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
RSS_BEFORE=$(rss_kb "$SEG_PID")
ticks_before=$(bench_ticks_of "$SEG_PID")
SEAL=$(bench_context_seal "$TENANT" bench admin)
read -r REFIT_S MODEL < <("$BENCH_PY" "$CLIENT" refit "127.0.0.1:$SEG_GRPC" "$STUBS" 1997-09-30 \
  --md "x-crm-tenant-id=$TENANT" --md "x-crm-principal=bench" --md "x-crm-roles=admin" \
  --md "x-crm-context-seal=$SEAL")
ticks_after=$(bench_ticks_of "$SEG_PID")
HWM=$(hwm_kb "$SEG_PID")
RSS_AFTER=$(rss_kb "$SEG_PID")
HZ=$(getconf CLK_TCK)
FITTED=$(jq -r .customers <<<"$MODEL")
[[ $FITTED -gt 0 ]] || bench_die "the refit answered no customers: $MODEL"

echo
echo "Purchases: $ROWS rows of $CUSTOMERS customers ($REPLICAS replicas of CDNOW_master.txt's 23,570)."
echo "Model (as of 1997-09-30, weeks): customers $FITTED, repeat $(jq -r .repeatCustomers <<<"$MODEL"),"
echo "  BG/NBD $(jq -c .bgNbd <<<"$MODEL") LL $(jq -r .bgNbdLogLikelihood <<<"$MODEL")"
echo "  Gamma-Gamma $(jq -c .gammaGamma <<<"$MODEL") LL $(jq -r .gammaGammaLogLikelihood <<<"$MODEL")"
printf '%-34s %10s\n' "" "seconds"
printf '%-34s %10.2f\n' "COPY of the rows (ceiling)" "$COPY_S"
printf '%-34s %10.2f   (%.1fx the COPY)\n' "RefitClvModel (read + fit + store)" "$REFIT_S" "$(echo "$REFIT_S / $COPY_S" | bc -l)"
printf '%-34s %10.2f\n' "  segmentation CPU during it" "$(echo "($ticks_after - $ticks_before) / $HZ" | bc -l)"
echo "segmentation resident memory: $((RSS_BEFORE / 1024)) MiB before, peak $((HWM / 1024)) MiB,"
echo "  $((RSS_AFTER / 1024)) MiB after; peak - before = $(((HWM - RSS_BEFORE) * 1024 / CUSTOMERS)) bytes per customer"
echo "  (transient: the refit holds the tenant's purchases and summaries only while it runs)."
