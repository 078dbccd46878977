#!/usr/bin/env bash
# Delivery (engine 4): a campaign of BENCH_MESSAGES (10,000) webhook messages
# to a local receiver (crm-bench-webhook-sink, C++), then one of as many
# email messages to a local SMTP server (crm-bench-smtp-sink, C++), consent,
# caps and rendering on (each message: the claim under its campaign's
# state, the customer and consents from customer-store, the template
# rendered by personalization, the signed POST or the SMTP transaction, the
# finish with its event), each measured from :schedule to the campaign's
# completion; next to, in the same run:
#   - each sink's own ceiling: wrk POSTing the same body to the webhook
#     sink; crm-bench-smtp-sink --blast sending the same mail to the SMTP
#     sink over as many connections as there are senders;
#   - redis-benchmark XADD (one connection): the queue's ceiling.
# Checks that each sink received every message exactly once (distinct
# Idempotency-Key / X-CRM-Message-Id = messages). Target: >= 20,000 webhook
# messages/s.
# See bench/README.md, "delivery_bench.sh".
#
#   bench/delivery_bench.sh
#
# Starts its own PostgreSQL, Redis and every listed service under
# build/bench-run/delivery on private ports (test ports + 10900) and stops
# them on exit. Environment: BENCH_MESSAGES (at most 10,000: one list
# audience), BENCH_SENDERS (32), BENCH_PG_STATEMENTS=1 (PostgreSQL's
# statements by time during the campaign, pg_stat_statements, in
# $OUT/pg-statements.txt), and bench/lib.sh's BENCH_DURATION,
# BENCH_WARMUP, BENCH_WRK_CONNS.
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/delivery}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly MESSAGES=${BENCH_MESSAGES:-10000} SENDERS=${BENCH_SENDERS:-32}
((MESSAGES >= 1 && MESSAGES <= 10000)) || bench_die "BENCH_MESSAGES is 1..10000"
readonly PG_PORT=55452 REDIS_PORT=56399 SINK_PORT=20991 SMTP_PORT=20992
bench_services 10900
GW_HTTP=$(bench_port gateway http)
D_METRICS=$(bench_port delivery metrics)
readonly GW_HTTP D_METRICS
readonly REST=http://127.0.0.1:$GW_HTTP
readonly SINK_BIN=$BUILD_DIR/bench/crm-bench-webhook-sink
readonly SMTP_BIN=$BUILD_DIR/bench/crm-bench-smtp-sink
OUT=$BENCH_RUN_DIR/out
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
bench_banner "delivery_bench: a campaign of $MESSAGES webhook messages, $SENDERS senders"
if [[ ${CRM_SKIP_BUILD:-0} != 1 ]]; then
  flock "$BENCH_BUILD_LOCK" cmake --build "$BUILD_DIR" -j2 --target crm-bench-webhook-sink \
    crm-bench-smtp-sink >/dev/null
fi
[[ -x $SINK_BIN ]] || bench_die "missing $SINK_BIN"
[[ -x $SMTP_BIN ]] || bench_die "missing $SMTP_BIN"
bench_require_free_ports $SINK_PORT $SMTP_PORT
bench_stack_prepare $PG_PORT $REDIS_PORT
if [[ ${BENCH_PG_STATEMENTS:-0} == 1 ]]; then
  # A profile of the database's side: statements by time during the campaign.
  bench_psql_super -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
  bench_pg_restart
  bench_psql_super -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
fi
bench_migrate
bench_bootstrap_tenant bench-delivery
readonly KEY=$BENCH_KEY TENANT=$BENCH_TENANT

BENCH_SVC_ENV[gateway]="CRM_DEFAULT_RATE_LIMIT=1000000"
BENCH_SVC_ENV[delivery]="CRM_DELIVERY_ALLOW_NETWORKS=127.0.0.0/8 CRM_DELIVERY_SENDERS=$SENDERS CRM_DELIVERY_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT"
bench_start_services
bench_start sink -- "$SINK_BIN" --port $SINK_PORT --max-seconds 1800
bench_wait_for sink 15 curl -sf -o /dev/null "http://127.0.0.1:$SINK_PORT/count"
bench_start smtp-sink -- "$SMTP_BIN" --port $SMTP_PORT --max-seconds 1800 --save-first "$OUT/first.eml"
# "<mails> <distinct X-CRM-Message-Id>" from the SMTP sink (its XCOUNT).
smtp_count() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" || return 1
  read -r line <&3
  printf 'XCOUNT\r\n' >&3
  read -r line <&3
  exec 3<&-
  line=${line%$'\r'}
  echo "${line#250 }"
}
bench_wait_for smtp-sink 15 smtp_count

api() { curl -sS --fail-with-body -H "Authorization: Bearer $KEY" -H 'content-type: application/json' "$@"; }

# ------------------------------------------------------------------ seed
bench_say "importing $MESSAGES customers (NDJSON), a webhook template and endpoint"
awk -v n="$MESSAGES" 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"givenName\":\"B%d\",\"emails\":[\"b%d@bench-delivery.example\"]}\n", i, i }' >"$OUT/customers.ndjson"
curl -sS --fail-with-body -H "Authorization: Bearer $KEY" -H 'content-type: application/x-ndjson' \
  --data-binary @"$OUT/customers.ndjson" "$REST/v1/customers:import?batchId=bench-$RANDOM" >"$OUT/import.json"
bench_psql_owner -At -v tenant="$TENANT" >"$OUT/ids.txt" <<'SQL'
SET app.tenant_id = :'tenant';
SELECT id FROM customer_store.customers WHERE tenant_id = :'tenant' ORDER BY id;
SQL
[[ $(wc -l <"$OUT/ids.txt") -eq $MESSAGES ]] || bench_die "imported $(wc -l <"$OUT/ids.txt") customers, not $MESSAGES"
api -X POST "$REST/v1/templates?requestId=tpl" -d '{"templateId":"hook","displayName":"Hook",
  "channel":"TEMPLATE_CHANNEL_WEBHOOK","locales":[{"locale":"en","parts":{"json":
  "{\"name\": \"{{customer.given_name}}\", \"email\": \"{{customer.email}}\"}"}}]}' >/dev/null
api -X POST "$REST/v1/templates?requestId=tpl-mail" -d '{"templateId":"mail","displayName":"Mail",
  "channel":"TEMPLATE_CHANNEL_EMAIL","locales":[{"locale":"en","parts":{
  "subject":"Your order is on its way, {{customer.given_name}}",
  "text":"Hi {{customer.given_name}},\nyour order ships today.\n",
  "html":"<p>Hi {{customer.given_name}}, your order ships today.</p>"}}]}' >/dev/null
ENDPOINT=$(api -X POST "$REST/v1/webhookEndpoints?requestId=ep" \
  -d "{\"url\":\"http://127.0.0.1:$SINK_PORT/hook\",\"maxConcurrency\":64}" | jq -er .endpointId)
# campaign_create NAME CHANNEL TEMPLATE: a drafted campaign to every customer.
campaign_create() {
  jq -R . "$OUT/ids.txt" | jq -cs "{name: \"$1\", channel: \"$2\",
    purpose: \"PURPOSE_TRANSACTIONAL\", endpointId: \"$([[ $2 == CHANNEL_WEBHOOK ]] && echo "$ENDPOINT")\",
    audience: {customerIds: .}, variants: [{variantId: \"a\", templateId: \"$3\"}]}" >"$OUT/campaign-$1.json"
  api -X POST "$REST/v1/campaigns?requestId=c-$1" --data-binary @"$OUT/campaign-$1.json" | jq -er .campaignId
}
CAMPAIGN=$(campaign_create webhook CHANNEL_WEBHOOK hook)
MAIL_CAMPAIGN=$(campaign_create email CHANNEL_EMAIL mail)

# campaign_run NAME CAMPAIGN SINK: schedules the campaign and waits for its
# completion; records NAME's rate (messages / seconds from :schedule to
# completed) and CPU per message.
campaign_run() {
  local name=$1 campaign=$2 sink=$3 before after t0 t1 state deadline elapsed rate cpu sent
  bench_wait_quiet
  bench_say "campaign $name ($campaign): scheduling"
  BENCH_CPU_COMPONENTS=("delivery=$(bench_pid_of delivery)" "customer-store=$(bench_pid_of customer-store)"
    "personalization=$(bench_pid_of personalization)" "$sink=$(bench_pid_of "$sink")" postgres)
  [[ ${BENCH_PG_STATEMENTS:-0} == 1 ]] &&
    bench_psql_super -c "SELECT pg_stat_statements_reset()" >/dev/null
  before=$(bench_cpu_snapshot)
  t0=$(date +%s.%N)
  api -X POST "$REST/v1/campaigns/$campaign:schedule" -d "{\"requestId\":\"s-$name\"}" >/dev/null
  deadline=$((SECONDS + 900))
  while :; do
    state=$(api "$REST/v1/campaigns/$campaign" | jq -r .state)
    [[ $state == CAMPAIGN_STATE_COMPLETED ]] && break
    ((SECONDS < deadline)) || bench_die "campaign $name did not complete within 900 s (state $state)"
    sleep 0.05
  done
  t1=$(date +%s.%N)
  after=$(bench_cpu_snapshot)
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  rate=$(awk -v n="$MESSAGES" -v s="$elapsed" 'BEGIN { printf "%.0f", n / s }')
  cpu=$(bench_cpu_delta "$before" "$after" "$MESSAGES" 0)
  sent=$(api "$REST/v1/campaigns/$campaign/results" | jq -r '.variants[0].sent // "0"')
  bench_say "campaign $name: $MESSAGES messages in ${elapsed}s = $rate msg/s"
  bench_record "campaign-$name" "$rate" 0 0 $((MESSAGES - sent)) "$MESSAGES" "$cpu"
  if [[ ${BENCH_PG_STATEMENTS:-0} == 1 ]]; then
    bench_psql_super -P pager=off -c "SELECT round(total_exec_time)
      AS ms, calls, round((total_exec_time / $MESSAGES)::numeric, 3) AS ms_per_msg,
      left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements
      ORDER BY total_exec_time DESC LIMIT 25" >"$OUT/pg-statements-$name.txt"
    bench_say "statements by time during the campaign: $OUT/pg-statements-$name.txt"
  fi
}

# ------------------------------------------------------------------ the campaigns
campaign_run webhook "$CAMPAIGN" sink
read -r POSTS KEYS < <(curl -s "http://127.0.0.1:$SINK_PORT/count")
bench_say "webhook sink: $POSTS POSTs, $KEYS distinct Idempotency-Keys"
campaign_run email "$MAIL_CAMPAIGN" smtp-sink
read -r MAILS MAIL_IDS < <(smtp_count)
bench_say "SMTP sink: $MAILS mails, $MAIL_IDS distinct X-CRM-Message-Id"

# ------------------------------------------------------------------ ceilings
BODY=$(printf '{"messageId":"%s","customerId":"%s","templateId":"hook","purpose":"transactional","data":{"name":"B1","email":"b1@bench-delivery.example"}}' \
  "$(cat /proc/sys/kernel/random/uuid)" "$(head -n1 "$OUT/ids.txt")")
echo hook >"$OUT/sink-path.txt"
BENCH_CPU_COMPONENTS=("sink=$(bench_pid_of sink)")
BENCH_API_KEY=none bench_wrk sink-ceiling "http://127.0.0.1:$SINK_PORT" "$BENCH_DIR/post_each.lua" \
  "$OUT/sink-path.txt" "/%s" "$BODY"
BENCH_CPU_COMPONENTS=("smtp-sink=$(bench_pid_of smtp-sink)")
before=$(bench_cpu_snapshot)
BLAST=$("$SMTP_BIN" --blast --port $SMTP_PORT --connections "$SENDERS" \
  --seconds "${BENCH_DURATION:-10}" --mail "$OUT/first.eml")
after=$(bench_cpu_snapshot)
BLAST_MAILS=$(sed -E 's/.*mails=([0-9]+).*/\1/' <<<"$BLAST")
BLAST_RATE=$(sed -E 's/.*rate=([0-9]+).*/\1/' <<<"$BLAST")
bench_record smtp-sink-ceiling "$BLAST_RATE" 0 0 0 "$BLAST_MAILS" \
  "$(bench_cpu_delta "$before" "$after" "$BLAST_MAILS" 0)"
XADD_CSV=$(redis-benchmark -h 127.0.0.1 -p $REDIS_PORT -c 1 -n 50000 --csv \
  XADD bench:ceiling '*' envelope "$TENANT/$(head -n1 "$OUT/ids.txt")" 2>/dev/null | tail -n 1)
XADD_RPS=$(awk -F'","' '{ gsub(/"/, "", $2); print $2 }' <<<"$XADD_CSV")

bench_report sink-ceiling
printf '\nredis-benchmark XADD (1 connection): %s req/s\n' "$XADD_RPS"
printf 'Exactly once at the webhook sink: %s POSTs, %s distinct Idempotency-Keys, %s messages -> %s\n' \
  "$POSTS" "$KEYS" "$MESSAGES" "$([[ $POSTS -eq $MESSAGES && $KEYS -eq $MESSAGES ]] && echo OK || echo MISMATCH)"
printf 'Exactly once at the SMTP sink: %s mails, %s distinct X-CRM-Message-Id, %s messages -> %s\n' \
  "$MAILS" "$MAIL_IDS" "$MESSAGES" "$([[ $MAILS -eq $MESSAGES && $MAIL_IDS -eq $MESSAGES ]] && echo OK || echo MISMATCH)"
awk -v r="$(bench_rps_of campaign-webhook)" -v s="$(bench_rps_of sink-ceiling)" -v x="$XADD_RPS" 'BEGIN {
  printf "TARGET webhook messages/s >= 20000: %.0f (%.3fx the sink, %.3fx XADD) -> %s\n",
         r, r / s, r / x, (r >= 20000 ? "MET" : "MISSED") }'
awk -v r="$(bench_rps_of campaign-email)" -v s="$(bench_rps_of smtp-sink-ceiling)" -v x="$XADD_RPS" 'BEGIN {
  printf "email messages/s: %.0f (%.3fx the SMTP sink, %.3fx XADD)\n", r, r / s, r / x }'
[[ $POSTS -eq $MESSAGES && $KEYS -eq $MESSAGES ]] || BENCH_FAILED=1
[[ $MAILS -eq $MESSAGES && $MAIL_IDS -eq $MESSAGES ]] || BENCH_FAILED=1
exit "${BENCH_FAILED:-0}"
