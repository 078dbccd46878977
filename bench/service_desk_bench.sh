#!/usr/bin/env bash
# The service desk: tickets created through the gateway over REST (each a
# unit of work with the requester found or created in customer-store, the
# first message, the audit row and an outbox event) and inbound mail through
# the webhook (parsed, threaded, stored once), each next to pgbench
# TPC-B-like on the same PostgreSQL in the same run (the ceiling of a write
# transaction here); the SLA engine (crm-sla-bench: one evaluation's p99, a
# sweep over 1,000,000 open tickets); a ticket's context (the web call
# center: its visit's pages and the 360 view) next to the 360 view alone;
# the classifier on BANKING77
# (crm-intent-eval: training time for 10,003 texts, prediction p99) when the
# shared data is present. See bench/README.md, "service_desk_bench.sh".
#
#   bench/service_desk_bench.sh
#
# Starts its own PostgreSQL, Redis and every service under
# build/bench-run/service-desk on private ports, and stops them all on exit.
# Exit status: 0 when every run completed with an error rate <= 0.1% and
# every created ticket is stored with its message; a missed target is
# REPORTED, not a failure. Environment: the BENCH_* knobs of bench/lib.sh,
# BENCH_REQUESTERS (distinct requester addresses, default 1000),
# BENCH_PGBENCH_S (pgbench measured seconds, default 15; 0 skips it),
# BENCH_CONTEXT_TICKETS (chats whose context is read, default 200),
# BENCH_SLA_TICKETS (the engine's sweep, default 1000000), BENCH_SLA_PG_TICKETS
# (the service's sweep on PostgreSQL, default 1000000; 0 skips it), BENCH_PG_STATEMENTS=1
# (PostgreSQL's statements by time while tickets are created, in
# out/pg-statements.txt).
set -Eeuo pipefail

_bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RUN_DIR=${BENCH_RUN_DIR:-${BUILD_DIR:-$_bench_repo/build}/bench-run/service-desk}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly REQUESTERS=${BENCH_REQUESTERS:-1000}
readonly PGBENCH_S=${BENCH_PGBENCH_S:-15}
readonly SLA_TICKETS=${BENCH_SLA_TICKETS:-1000000}
readonly SLA_PG_TICKETS=${BENCH_SLA_PG_TICKETS:-1000000}
readonly CONTEXT_TICKETS=${BENCH_CONTEXT_TICKETS:-200}
readonly PG_PORT=55454 REDIS_PORT=56401
# Every service of k8s/services.yaml on its test port + 11100.
bench_services 11100
GW_HTTP=$(bench_port gateway http)
readonly GW_HTTP
readonly REST=http://127.0.0.1:$GW_HTTP
OUT=$BENCH_RUN_DIR/out
trap 'bench_say "FAILED at line $LINENO: $BASH_COMMAND"' ERR

bench_init
bench_banner "service_desk_bench: ticket creation, SLA engine, classifier"

bench_build_services
flock "$BENCH_BUILD_LOCK" cmake --build "$BUILD_DIR" -j2 --target crm-sla-bench crm-intent-eval >/dev/null
bench_require_binaries
# shellcheck disable=SC2046  # the ports are words
bench_require_free_ports $(crm_svc_all_ports)
bench_datastores_fresh $PG_PORT $REDIS_PORT
if [[ ${BENCH_PG_STATEMENTS:-0} == 1 ]]; then
  # A profile of the database's side: statements by time while tickets are created.
  bench_psql_super -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
  bench_pg_restart
  bench_psql_super -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
fi
bench_migrate
BENCH_SVC_ENV[gateway]="CRM_DEFAULT_RATE_LIMIT=1000000"
bench_start_services
bench_bootstrap_tenant bench-desk
export BENCH_API_KEY=$BENCH_KEY
bench_say "tenant $BENCH_TENANT"

# The requesters are known customers, as most of a running desk's are:
# imported before the run. (A requester customer-store has to create costs it
# a customer import of one row: ~30 ms of PostgreSQL time, bench/README.md.)
bench_say "importing $REQUESTERS requesters (NDJSON)"
awk -v n="$REQUESTERS" 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"givenName\":\"C%d\",\"emails\":[\"customer-%d@bench.example\"]}\n", i, i }' \
  >"$OUT/requesters.ndjson"
curl -sS --fail-with-body -H "Authorization: Bearer $BENCH_KEY" -H 'content-type: application/x-ndjson' \
  --data-binary @"$OUT/requesters.ndjson" "$REST/v1/customers:import?batchId=bench-$RANDOM" \
  >"$OUT/import.json" || bench_die "importing the requesters failed ($OUT/import.json)"

# pgbench first, on small tables of its own database (as order_latency_bench).
PGBENCH_TPS=""
if ((PGBENCH_S > 0)); then
  bench_wait_quiet
  bench_psql_super -c "CREATE DATABASE pgbench" >/dev/null
  runuser -u postgres -- pgbench -q -i -s 8 -h "$BENCH_PG_HOME/sock" -p "$BENCH_PG_PORT" pgbench \
    >"$OUT/pgbench-init.txt" 2>&1 || bench_die "pgbench -i failed ($OUT/pgbench-init.txt)"
  bench_say "ceiling: pgbench TPC-B-like, 8 clients, 2 threads, prepared, ${PGBENCH_S}s"
  runuser -u postgres -- pgbench -c 8 -j 2 -M prepared -T "$PGBENCH_S" -h "$BENCH_PG_HOME/sock" \
    -p "$BENCH_PG_PORT" pgbench >"$OUT/pgbench.txt" 2>&1 || bench_die "pgbench failed ($OUT/pgbench.txt)"
  PGBENCH_TPS=$(awk '/^tps = / { printf "%.0f", $3; exit }' "$OUT/pgbench.txt")
  [[ -n $PGBENCH_TPS ]] || bench_die "no tps in $OUT/pgbench.txt"
fi

# CPU per ticket of every process that works for it (the event consumers
# too: customer-store writes each ticket's timeline entry).
BENCH_CPU_COMPONENTS=("gateway=$(bench_pid_of gateway)" "service-desk=$(bench_pid_of service-desk)"
                      "customer-store=$(bench_pid_of customer-store)"
                      "segmentation=$(bench_pid_of segmentation)"
                      "personalization=$(bench_pid_of personalization)"
                      "delivery=$(bench_pid_of delivery)" "postgres=")
bench_wait_quiet
[[ ${BENCH_PG_STATEMENTS:-0} == 1 ]] &&
  bench_psql_super -c "SELECT pg_stat_statements_reset()" >/dev/null
bench_wrk create-ticket "$REST" "$BENCH_DIR/ticket.lua" "$REQUESTERS"
if [[ ${BENCH_PG_STATEMENTS:-0} == 1 ]]; then
  bench_psql_super -P pager=off -c "SELECT round(total_exec_time) AS ms, calls,
    left(regexp_replace(query, '\s+', ' ', 'g'), 120) AS query FROM pg_stat_statements
    ORDER BY total_exec_time DESC LIMIT 25" >"$OUT/pg-statements.txt"
  bench_say "statements by time while creating tickets: $OUT/pg-statements.txt"
fi

# Every ticket answered 200 is stored with its first message, once.
read -r tickets messages numbers < <(bench_psql_super -At -F " " -c \
  "SELECT count(*), sum(message_count), count(DISTINCT number) FROM service_desk.tickets")
bench_say "stored: $tickets tickets, $messages messages, $numbers distinct numbers"
((tickets == numbers && tickets == messages)) || bench_die "tickets, messages and numbers differ"
customers=$(bench_psql_super -At -c "SELECT count(*) FROM customer_store.customers")

# Inbound mail through the webhook: each a parsed MIME mail (text and HTML,
# quoted-printable) threaded by its ids onto a ticket or opening one; the
# mailbox answers new tickets automatically (once per sender a day), as a
# desk in use does.
MAILBOX=$(curl -sS --fail-with-body -H "Authorization: Bearer $BENCH_KEY" -H 'content-type: application/json' \
  -d '{"mailbox":{"address":"support@bench.example","autoReply":{"enabled":true}},"requestId":"bench-mailbox-'"$RANDOM"'"}' \
  "$REST/v1/mailboxes" | jq -er .id) || bench_die "creating the mailbox failed"
bench_wait_quiet
bench_wrk inbound-mail "$REST" "$BENCH_DIR/inbound_mail.lua" "$MAILBOX" "$REQUESTERS"
read -r mails mail_messages threaded < <(bench_psql_super -At -F " " -c \
  "SELECT count(*), (SELECT count(*) FROM service_desk.ticket_messages WHERE mail_id <> ''),
   count(*) FILTER (WHERE rule IN ('in_reply_to', 'references')) FROM service_desk.ticket_mails
   WHERE NOT outbound")
bench_say "stored: $mails mails ($threaded threaded onto their ticket), $mail_messages mail messages"
((mails == mail_messages)) || bench_die "mails and their messages differ"
auto_replies=$(bench_psql_super -At -c \
  "SELECT count(*) FROM service_desk.outbound_mails WHERE kind = 'auto_reply'")
bench_say "auto-replies: $auto_replies queued for delivery (at most one per sender a day)"

# Ticket creation with assignment, as a desk that assigns does: 20
# available agents of the tickets' queue, and a routing rule that assigns
# every ticket the bench creates to the least busy of them (one
# assignment at a time per tenant: the tenant's assignment lock, held
# until each creation commits, docs/service-desk.md "Assignment").
for i in $(seq 1 20); do
  curl -sS --fail-with-body -X PUT -H "Authorization: Bearer $BENCH_KEY" -H 'content-type: application/json' \
    --data '{"name":"Agent '"$i"'","capacity":1000,"available":true}' \
    "$REST/v1/agents/agent-$i?requestId=bench-agent-$i-$RANDOM" >"$OUT/agent.json" ||
    bench_die "writing agent $i failed ($OUT/agent.json)"
done
curl -sS --fail-with-body -X PUT -H "Authorization: Bearer $BENCH_KEY" -H 'content-type: application/json' \
  --data '{"rules":[{"name":"Damaged parcels to the team","conditions":[{"field":"subject","match":"contains","values":["damaged"]}],"action":{"queue":"shipping","assign":"ASSIGN_MODE_LEAST_BUSY"}}]}' \
  "$REST/v1/routingRules?requestId=bench-routing-$RANDOM" >"$OUT/routing.json" ||
  bench_die "writing the routing rule failed ($OUT/routing.json)"
bench_wait_quiet
bench_wrk create-ticket-assigned "$REST" "$BENCH_DIR/ticket.lua" "$REQUESTERS"
read -r assigned max_load < <(bench_psql_super -At -F " " -c \
  "SELECT coalesce(sum(n), 0), coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM
   service_desk.tickets WHERE assignee LIKE 'agent-%' GROUP BY assignee) a")
bench_say "assigned: $assigned tickets, the busiest agent holds $max_load"

# The web call center's context: CONTEXT_TICKETS chats opened from the
# site, each visitor with a visit of 20 page and product views in the last
# 20 minutes and an older visit; GET /v1/tickets/{id}/context (the ticket,
# the visit's pages, the 360 view) next to the 360 view alone, which the
# context reads inside it.
bench_say "ticket context: $CONTEXT_TICKETS visitors' events, then their chats"
python3 - "$CONTEXT_TICKETS" >"$OUT/context-events.ndjson" <<'PY'
import json, sys, time
n = int(sys.argv[1])
def iso(ago):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - ago))
events = []
for v in range(n):
    visitor = "bench-visitor-%d" % v
    events.append({"type": "page.viewed", "visitorId": visitor, "occurTime": iso(7200),
                   "properties": {"path": "/yesterday"}})
    for i in range(20):
        kind = "product.viewed" if i % 4 == 3 else "page.viewed"
        events.append({"type": kind, "visitorId": visitor, "occurTime": iso(1200 - 60 * i),
                       "properties": {"path": "/p/%d" % i, "title": "Page %d" % i,
                                      "sku": "SKU-%d" % i if kind == "product.viewed" else ""}})
for start in range(0, len(events), 500):
    print(json.dumps({"events": events[start:start + 500], "requestId": "bench-ctx-%d" % start}))
PY
while read -r batch; do
  curl -sS --fail-with-body -H "Authorization: Bearer $BENCH_KEY" -H 'content-type: application/json'     --data "$batch" "$REST/v1/events:track" >"$OUT/track.json" ||
    bench_die "tracking the visitors' events failed ($OUT/track.json)"
done <"$OUT/context-events.ndjson"
: >"$OUT/context-ids.txt"
: >"$OUT/context-customers.txt"
for v in $(seq 0 $((CONTEXT_TICKETS - 1))); do
  curl -sS --fail-with-body -H "Authorization: Bearer $BENCH_KEY" -H 'content-type: application/json'     --data '{"ticket":{"subject":"Chat from the site","channel":"TICKET_CHANNEL_CHAT","visitorId":"bench-visitor-'"$v"'"},"requesterEmail":"chat-'"$v"'@bench.example","description":"Where is my parcel?","requestId":"bench-chat-'"$v-$RANDOM"'"}'     "$REST/v1/tickets" >"$OUT/chat.json" || bench_die "opening chat $v failed ($OUT/chat.json)"
  jq -er .id "$OUT/chat.json" >>"$OUT/context-ids.txt"
  jq -er .customerId "$OUT/chat.json" >>"$OUT/context-customers.txt"
done
# Each context holds the visit's 20 events and both parts.
curl -sS --fail-with-body -H "Authorization: Bearer $BENCH_KEY"   "$REST/v1/tickets/$(head -n 1 "$OUT/context-ids.txt")/context" >"$OUT/context.json" ||
  bench_die "reading a ticket's context failed ($OUT/context.json)"
[[ $(jq -r '"\(.visit.events | length) \([.sections[] | select(.available)] | length)"' "$OUT/context.json") == "20 2" ]] ||
  bench_die "a ticket's context lacks its visit or a part ($OUT/context.json)"
bench_wait_quiet
bench_wrk ticket-context "$REST" "$BENCH_DIR/view.lua" "$OUT/context-ids.txt" "/v1/tickets/%s/context"
bench_wait_quiet
bench_wrk customer-view "$REST" "$BENCH_DIR/view.lua" "$OUT/context-customers.txt"

# The sweeper against PostgreSQL: SLA_PG_TICKETS open tickets of the tenant
# (written by SQL: 24/7 policy, first reply 24 h warned 23 h before,
# created 2 h ago, so the warning is due and the deadline far) all due at once; the service's sweeper evaluates each
# and tells its warning (one outbox event each, exactly once) while the
# time is taken until none is due. Ceiling: the same rows written by one
# set-based statement each (every SLA row updated, one outbox row per
# ticket inserted) in the same run.
SWEEP_S="" CEILING_S=""
if ((SLA_PG_TICKETS > 0)); then
  curl -sS --fail-with-body -X PUT -H "Authorization: Bearer $BENCH_KEY" -H 'content-type: application/json' \
    --data '{"hours":{"alwaysOpen":true},"targetsByPriority":{"normal":{"firstReplySeconds":"86400"}},"warnBeforeSeconds":"82800"}' \
    "$REST/v1/slaPolicy?requestId=bench-sla-$RANDOM" >"$OUT/sla-policy.json" ||
    bench_die "writing the SLA policy failed ($OUT/sla-policy.json)"
  bench_say "SLA sweep: writing $SLA_PG_TICKETS open tickets (SQL), then waiting for the rebase"
  # The policy's re-evaluation of the tickets created above ends first.
  for _ in $(seq 600); do
    [[ $(bench_psql_super -At -c "SELECT count(*) FROM service_desk.sla_rebases") == 0 ]] && break
    sleep 0.5
  done
  bench_psql_super -q <<SQL >"$OUT/sla-tickets.txt" 2>&1 || bench_die "writing the tickets failed ($OUT/sla-tickets.txt)"
BEGIN;
INSERT INTO service_desk.tickets (tenant_id, ticket_id, number, customer_id, subject, channel,
  status, priority, version, message_count, created_at, updated_at)
SELECT '$BENCH_TENANT', gen_random_uuid(), 100000000 + g, gen_random_uuid(), 'sweep ' || g, 'email',
  'open', 'normal', 1, 1, now() - interval '2 hours', now() - interval '2 hours'
FROM generate_series(1, $SLA_PG_TICKETS) g;
INSERT INTO service_desk.ticket_slas (tenant_id, ticket_id, policy_version, next_due_at, updated_at)
SELECT tenant_id, ticket_id, 1, NULL, now() FROM service_desk.tickets
WHERE tenant_id = '$BENCH_TENANT' AND number > 100000000;
COMMIT;
VACUUM ANALYZE service_desk.tickets;
VACUUM ANALYZE service_desk.ticket_slas;
SQL
  bench_wait_quiet
  # All due at once (the rows are the sweeper's from the commit on).
  bench_psql_super -c "UPDATE service_desk.ticket_slas SET next_due_at = now() - interval '5 minutes' WHERE tenant_id = '$BENCH_TENANT' AND next_due_at IS NULL" >/dev/null
  t0=$(date +%s.%N)
  left=1
  while ((left > 0)); do
    sleep 1
    # An index probe (a count would scan what is left, hold back vacuum's
    # view of the dead index entries and compete with the sweeper).
    left=$(bench_psql_super -At -c "SELECT count(*) FROM (SELECT 1 FROM service_desk.ticket_slas WHERE next_due_at <= now() - interval '1 minute' LIMIT 1) x")
    [[ $(echo "$(date +%s.%N) - $t0 > 1800" | bc) == 1 ]] && bench_die "the sweep did not end in 30 min"
  done
  SWEEP_S=$(echo "$(date +%s.%N) - $t0" | bc)
  told=$(bench_psql_super -At -c "SELECT count(DISTINCT payload->>'ticketId'), count(*) FROM service_desk.outbox WHERE event_type = 'ticket.sla_warning'")
  bench_say "sweep: ${SWEEP_S}s; warnings told (tickets, events): $told"
  [[ $told == "$SLA_PG_TICKETS|$SLA_PG_TICKETS" ]] || bench_die "each ticket's warning told once: expected $SLA_PG_TICKETS|$SLA_PG_TICKETS, got $told"
  bench_wait_quiet
  t0=$(date +%s.%N)
  bench_psql_super -q <<SQL >"$OUT/sla-ceiling.txt" 2>&1 || bench_die "the ceiling failed ($OUT/sla-ceiling.txt)"
BEGIN;
UPDATE service_desk.ticket_slas SET next_due_at = next_due_at + interval '1 hour', told = told || 'x'::text
WHERE tenant_id = '$BENCH_TENANT';
INSERT INTO service_desk.outbox (event_id, tenant_id, customer_id, event_type, payload)
SELECT gen_random_uuid(), tenant_id, customer_id, 'bench.sla_ceiling', jsonb_build_object('ticketId', ticket_id)
FROM service_desk.tickets WHERE tenant_id = '$BENCH_TENANT' AND number > 100000000;
ROLLBACK;
SQL
  CEILING_S=$(echo "$(date +%s.%N) - $t0" | bc)
fi

bench_say "SLA engine: crm-sla-bench --tickets $SLA_TICKETS"
"$BUILD_DIR/services/service_desk/crm-sla-bench" --tickets "$SLA_TICKETS" >"$OUT/sla.txt" 2>&1 ||
  bench_die "crm-sla-bench failed ($OUT/sla.txt)"

DATA_DIR=${CRM_SHARED_DATA_DIR:-$REPO/../shared/data}
[[ -f $DATA_DIR/banking77/train.csv ]] || DATA_DIR=$REPO/../../shared/data
if [[ -f $DATA_DIR/banking77/train.csv ]]; then
  bench_say "classifier: crm-intent-eval on BANKING77"
  "$BUILD_DIR/services/service_desk/crm-intent-eval" --train "$DATA_DIR/banking77/train.csv" \
    --test "$DATA_DIR/banking77/test.csv" >"$OUT/intent.txt" 2>&1 ||
    bench_die "crm-intent-eval failed ($OUT/intent.txt)"
fi

echo
echo "== results ($(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores SHARED by wrk and every process)"
bench_report create-ticket
echo "Stored: $tickets tickets (each with its first message and a distinct number), $customers requesters in customer-store."
if [[ -n $PGBENCH_TPS ]]; then
  rps=$(bench_rps_of create-ticket)
  awk -v r="$rps" -v t="$PGBENCH_TPS" 'BEGIN {
    printf "create-ticket %.0f/s vs pgbench TPC-B-like %d tps in the same run: %.2fx\n", r, t, r / t }'
  rps=$(bench_rps_of create-ticket-assigned)
  awk -v r="$rps" -v t="$PGBENCH_TPS" 'BEGIN {
    printf "create-ticket-assigned %.0f/s vs pgbench TPC-B-like %d tps in the same run: %.2fx\n", r, t, r / t }'
  rps=$(bench_rps_of inbound-mail)
  awk -v r="$rps" -v t="$PGBENCH_TPS" 'BEGIN {
    printf "inbound-mail %.0f/s vs pgbench TPC-B-like %d tps in the same run: %.2fx\n", r, t, r / t }'
fi
echo "Assignment: $assigned tickets assigned to 20 agents (least busy), the busiest holding $max_load."
echo "Inbound mail: $mails mails stored once each, $threaded of them threaded onto their ticket by In-Reply-To / References."
awk -v r="$(bench_rps_of ticket-context)" -v p="$(bench_p99_of ticket-context)" \
  -v vr="$(bench_rps_of customer-view)" -v vp="$(bench_p99_of customer-view)" 'BEGIN {
  printf "ticket-context %.0f/s p99 %.1f ms (target: under 1,000 ms) vs the 360 view alone %.0f/s p99 %.1f ms in the same run: %.2fx\n", r, p, vr, vp, r / vr }'
echo
if [[ -n $SWEEP_S ]]; then
  awk -v n="$SLA_PG_TICKETS" -v s="$SWEEP_S" -v c="$CEILING_S" 'BEGIN {
    printf "SLA sweep on PostgreSQL: %d due tickets evaluated, each warning told once, in %.1f s (%.0f tickets/s) vs the same rows written by set-based SQL in %.1f s: %.2fx\n", n, s, n / s, c, c / s }'
fi
echo "SLA engine (crm-sla-bench; targets: one evaluation < 20 us p99, 1,000,000 open tickets < 60 s):"
sed 's/^/  /' "$OUT/sla.txt"
if [[ -f $OUT/intent.txt ]]; then
  echo
  echo "Classifier (crm-intent-eval, BANKING77):"
  grep -E "accuracy|macro|train|predict|threshold|coverage" "$OUT/intent.txt" | sed 's/^/  /'
fi
exit "$BENCH_FAILED"
