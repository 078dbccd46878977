#!/usr/bin/env bash
# Delivery (engine 4), trigger latency: how long from the request that
# causes a trigger to the triggered message arriving at a webhook receiver,
# end to end through every real process:
#   - order:   POST /v1/orders -> transaction's order.placed (outbox, relay,
#              Redis stream) -> delivery's ORDER_PLACED campaign -> the
#              ledger row, claimed, customer and consents read, rendered,
#              signed and POSTed;
#   - segment: PATCH the customer's attribute -> customer-store's
#              customer.updated -> segmentation's live segment ->
#              segment.entered -> delivery's SEGMENT_ENTERED campaign -> the
#              same.
# Open loop at BENCH_RATE (20) requests/s, BENCH_CUSTOMERS (400: half
# orders, half segment entries; the first 10 of each warm up), p50 / p90 /
# p99 / max per kind; next to, in the same run, the receiver's own round
# trip for a direct POST (the last hop alone). Target: p99 <= 100 ms.
# See bench/README.md, "delivery_trigger_bench.sh".
#
#   bench/delivery_trigger_bench.sh
#
# Starts its own PostgreSQL, Redis and every listed service under
# build/bench-run/delivery-trigger on private ports (test ports + 11000) and
# stops them on exit.
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/delivery-trigger}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly CUSTOMERS=${BENCH_CUSTOMERS:-400} RATE=${BENCH_RATE:-20} TARGET_P99_MS=100
((CUSTOMERS >= 40 && CUSTOMERS <= 10000)) || bench_die "BENCH_CUSTOMERS is 40..10000"
readonly PG_PORT=55453 REDIS_PORT=56400 RECEIVER_PORT=21091 SMTP_PORT=21092
bench_services 11000
GW_HTTP=$(bench_port gateway http)
readonly GW_HTTP
readonly REST=http://127.0.0.1:$GW_HTTP
OUT=$BENCH_RUN_DIR/out
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
bench_banner "delivery_trigger_bench: trigger -> webhook latency, $CUSTOMERS triggers at $RATE/s"
bench_require_free_ports $RECEIVER_PORT $SMTP_PORT
bench_stack_prepare $PG_PORT $REDIS_PORT
bench_migrate
bench_bootstrap_tenant bench-trigger
readonly KEY=$BENCH_KEY TENANT=$BENCH_TENANT

BENCH_SVC_ENV[gateway]="CRM_DEFAULT_RATE_LIMIT=1000000"
BENCH_SVC_ENV[delivery]="CRM_DELIVERY_ALLOW_NETWORKS=127.0.0.0/8 CRM_DELIVERY_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT"
bench_start_services

# A failed call prints the answer's body (the reason) to stderr.
api() {
  local out
  if ! out=$(curl -sS --fail-with-body -H "Authorization: Bearer $KEY" -H 'content-type: application/json' "$@"); then
    echo "$out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# ------------------------------------------------------------------ seed
bench_say "importing $CUSTOMERS customers, a product, a segment, a template, an endpoint, two campaigns"
awk -v n="$CUSTOMERS" 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"givenName\":\"T%d\",\"attributes\":{\"tier\":{\"stringValue\":\"basic\"}}}\n", i }' \
  >"$OUT/customers.ndjson"
curl -sS --fail-with-body -H "Authorization: Bearer $KEY" -H 'content-type: application/x-ndjson' \
  --data-binary @"$OUT/customers.ndjson" "$REST/v1/customers:import?batchId=bench-$RANDOM" >"$OUT/import.json"
bench_psql_owner -At -v tenant="$TENANT" >"$OUT/ids.txt" <<'SQL'
SET app.tenant_id = :'tenant';
SELECT id FROM customer_store.customers WHERE tenant_id = :'tenant' ORDER BY id;
SQL
[[ $(wc -l <"$OUT/ids.txt") -eq $CUSTOMERS ]] || bench_die "imported $(wc -l <"$OUT/ids.txt") customers, not $CUSTOMERS"
api -X POST "$REST/v1/products" -d '{"sku":"TRIG-1","name":"Thing","categoryPath":["Home","Things"],
  "price":{"amountMinor":"500","currencyCode":"CHF"},"active":true}' >/dev/null
api -X POST "$REST/v1/segments?requestId=seg" \
  -d '{"segmentId":"vip","displayName":"VIP","expression":"attr.tier = \"vip\""}' >/dev/null
api -X POST "$REST/v1/templates?requestId=tpl" -d '{"templateId":"hook","displayName":"Hook",
  "channel":"TEMPLATE_CHANNEL_WEBHOOK","locales":[{"locale":"en","parts":{"json":
  "{\"name\": \"{{customer.given_name}}\"}"}}]}' >/dev/null
ENDPOINT=$(api -X POST "$REST/v1/webhookEndpoints?requestId=ep" \
  -d "{\"url\":\"http://127.0.0.1:$RECEIVER_PORT/hook\",\"maxConcurrency\":32}" | jq -er .endpointId)
for trigger in '{"kind":"TRIGGER_KIND_ORDER_PLACED"}' '{"kind":"TRIGGER_KIND_SEGMENT_ENTERED","segmentId":"vip"}'; do
  c=$(api -X POST "$REST/v1/campaigns?requestId=c-$RANDOM" -d "{\"name\":\"bench\",
    \"channel\":\"CHANNEL_WEBHOOK\",\"purpose\":\"PURPOSE_TRANSACTIONAL\",\"endpointId\":\"$ENDPOINT\",
    \"variants\":[{\"variantId\":\"a\",\"templateId\":\"hook\"}],\"trigger\":$trigger}" | jq -er .campaignId)
  api -X POST "$REST/v1/campaigns/$c:schedule" -d "{\"requestId\":\"s-$c\"}" >/dev/null
  deadline=$((SECONDS + 30))
  until [[ $(api "$REST/v1/campaigns/$c" | jq -r .state) == CAMPAIGN_STATE_RUNNING ]]; do
    ((SECONDS < deadline)) || bench_die "campaign $c did not start"
    sleep 0.2
  done
done

# ------------------------------------------------------------------ measure
bench_wait_quiet
bench_say "measuring: $CUSTOMERS requests at $RATE/s (open loop)"
"$BENCH_PY" "$BENCH_DIR/trigger_client.py" run --rest "$REST" --key "$KEY" --customers "$OUT/ids.txt" \
  --sku TRIG-1 --receiver-port $RECEIVER_PORT --rate "$RATE" --warm 10 --out "$OUT/latency.json" ||
  BENCH_FAILED=1
jq -r --argjson t $TARGET_P99_MS --argjson c "$(jq '.ceiling.p99_ms' "$OUT/latency.json")" '
  def f: if . == null then "-" else (. * 10 | round / 10 | tostring) end;
  (["order", "segment"][] as $k | .[$k] |
    "\($k | ascii_upcase): \(.arrived)/\(.count) arrived; p50 \(.p50_ms | f) ms, p90 \(.p90_ms | f) ms, p99 \(.p99_ms | f) ms, max \(.max_ms | f) ms (p99 \(if .p99_ms == null then "-" else (.p99_ms / $c | round | tostring) end)x the direct POST) -> TARGET p99 <= \($t) ms \(if .p99_ms != null and .p99_ms <= $t then "MET" else "MISSED" end)"),
  "ceiling (a direct POST to the same receiver): p50 \(.ceiling.p50_ms | f) ms, p99 \(.ceiling.p99_ms | f) ms",
  "request errors: \(.errors)"' "$OUT/latency.json"
jq -e '.order.arrived == .order.count and .segment.arrived == .segment.count and .errors == 0' \
  "$OUT/latency.json" >/dev/null || {
  bench_say "not every trigger reached the receiver, or requests failed"
  BENCH_FAILED=1
}
exit "${BENCH_FAILED:-0}"
