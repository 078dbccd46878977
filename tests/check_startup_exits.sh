#!/usr/bin/env bash
# Every service of k8s/services.yaml refuses a bad start-up the same way
# (libs/service/runtime.h, service::Boot): an invalid setting logs
# "invalid configuration: <what to fix>" and exits 2; a PostgreSQL that does
# not answer logs "start-up: ..." and exits 1. Nothing listens on the ports
# used (127.0.0.1, port 1 refuses connections).
set -euo pipefail
root=${1:?source dir}
build=${2:?build dir}
# shellcheck source=deploy/scripts/services.sh
source "$root/deploy/scripts/services.sh"
crm_services_load test
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

expect() {  # expect <svc> <exit code> <log text> env...
  local svc=$1 code=$2 text=$3
  shift 3
  local bin="$build/services/${svc//-/_}/$svc"
  local rc=0
  env -i PATH=/usr/bin:/bin "$@" timeout 30 "$bin" >"$out" 2>&1 || rc=$?
  if [ "$rc" != "$code" ] || ! grep -q "$text" "$out"; then
    echo "FAIL $svc: want exit $code and '$text', got exit $rc:"
    tail -5 "$out"
    fail=1
  else
    echo "ok   $svc: exit $code, '$text'"
  fi
}

peers_env=()
for svc in "${CRM_SERVICES[@]}"; do
  peers_env+=("CRM_$(echo "$svc" | tr 'a-z-' 'A-Z_')_ADDR=127.0.0.1:1")
done
valid=(CRM_PG_DSN=postgresql://crm_app:x@127.0.0.1:1/crm CRM_REDIS_ADDR=127.0.0.1:1
       CRM_PAGE_TOKEN_SECRET=0123456789abcdef0123456789abcdef
       CRM_CONTEXT_KEY=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
       CRM_BIND_HOST=127.0.0.1 CRM_GRPC_PORT=0 CRM_METRICS_PORT=0 CRM_HTTP_PORT=0
       "${peers_env[@]}")
for svc in "${CRM_SERVICES[@]}"; do
  expect "$svc" 2 '"invalid configuration: CRM_PG_DSN is required' "${valid[@]:1}"
  expect "$svc" 2 '"invalid configuration: CRM_WORKERS' "${valid[@]}" CRM_WORKERS=banana
  expect "$svc" 1 '"start-up: ' "${valid[@]}"
done
# Segmentation replicas: more than the event partitions, or no ordinal.
two=CRM_SEGMENTATION_REPLICAS=127.0.0.1:1,127.0.0.1:2
expect segmentation 2 'replicas must be between 1 and the event partitions (2)' "${valid[@]}" \
  CRM_EVENT_PARTITIONS=2 CRM_SEGMENTATION_REPLICAS=127.0.0.1:1,127.0.0.1:2,127.0.0.1:3 \
  CRM_SEGMENTATION_ORDINAL=0
expect segmentation 2 'CRM_SEGMENTATION_ORDINAL is required' "${valid[@]}" "$two"
expect segmentation 2 'the replica ordinal must be between 0 and 1' "${valid[@]}" "$two" \
  CRM_SEGMENTATION_ORDINAL=2
expect segmentation 2 'is not a host:port address' "${valid[@]}" CRM_SEGMENTATION_REPLICAS=a,b
# A StatefulSet pod's name gives the ordinal (then start-up fails on PostgreSQL).
expect segmentation 1 'segmentation_ordinal=1' "${valid[@]}" "$two" HOSTNAME=segmentation-1
exit "$fail"
