#!/usr/bin/env bash
# datastores.sh from a run folder that the `postgres` system user cannot
# reach (under a mode-700 folder, like a checkout under /root) and whose path
# is long (~110 characters: PostgreSQL's unix socket path may not exceed 107
# bytes). Both used to fail; PostgreSQL and Redis must start, answer and stop.
#
#   test_long_private_path.sh DATASTORES_SH [PG_PORT REDIS_PORT]
set -uo pipefail
DS=${1:?path of deploy/scripts/datastores.sh}
PG_PORT=${2:-31434}
REDIS_PORT=${3:-31381}
# shellcheck source=tests/datastores/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_free_ports "$PG_PORT" "$REDIS_PORT"

base=$(mktemp -d /tmp/crm-ds-private-XXXXXX)
chmod 0700 "$base"
pg_home=""
cleanup() {
  "$DS" stop "$run" "$PG_PORT" "$REDIS_PORT" >/dev/null 2>&1
  rm -rf "$base"
  [[ -n $pg_home && $pg_home == /*/* ]] && rm -rf "$pg_home"
  return 0
}
# Pad with folder names up to a ~110-character run folder.
run=$base/checkout-with-a-rather-long-name
while ((${#run} < 100)); do run=$run/deeper; done
run=$run/.run/local
trap cleanup EXIT
say "run folder (${#run} chars): $run"

# The premise: the postgres user can neither enter the folder nor use its path
# for a socket.
if runuser -u postgres -- test -x "$base" 2>/dev/null; then
  fail "setup: the postgres user can enter the mode-700 folder $base"
fi
old_socket=$run/pg/sock/.s.PGSQL.$PG_PORT
((${#old_socket} > 107)) || fail "setup: $old_socket is too short to exceed 107 bytes"

out=$("$DS" start "$run" "$PG_PORT" "$REDIS_PORT") || fail "start exited $?"
echo "$out"
pg_home=$(sed -n 's/^CRM_TEST_PG_HOME=//p' <<<"$out")
sock=$(sed -n 's/^CRM_TEST_PG_SOCKET_DIR=//p' <<<"$out")
expect_up "$PG_PORT" "$REDIS_PORT" "after start"

# The superuser over the unix socket (as the benches and e2e harness use it).
if [[ -n $sock ]] && runuser -u postgres -- "$PG_BIN/psql" -X -q -tA -h "$sock" -p "$PG_PORT" \
  -d crm -c 'select 1' </dev/null | grep -qx 1; then
  say "superuser answers on $sock"
else
  fail "the superuser does not answer on the unix socket '$sock'"
fi
[[ $(readlink -f "$run/pg") == "$pg_home" ]] || fail "$run/pg does not link to $pg_home"
"$DS" status "$run" "$PG_PORT" "$REDIS_PORT" || fail "status exited $? while up"

# A second start/stop pair reuses the cluster (data kept).
"$DS" stop "$run" "$PG_PORT" "$REDIS_PORT" || fail "stop exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "after stop"
"$DS" start "$run" "$PG_PORT" "$REDIS_PORT" >/dev/null || fail "second start exited $?"
expect_up "$PG_PORT" "$REDIS_PORT" "after the second start"
"$DS" stop "$run" "$PG_PORT" "$REDIS_PORT" || fail "second stop exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "after the second stop"

# Removing the run folder discards its cluster at the next start of any run
# folder (here: a fresh one next to it).
rm -rf "$run"
other=$base/other
"$DS" start "$other" "$PG_PORT" "$REDIS_PORT" >/dev/null || fail "start of $other exited $?"
[[ -e $pg_home ]] && fail "the orphaned $pg_home was not removed"
other_home=$(readlink -f "$other/pg")
"$DS" stop "$other" "$PG_PORT" "$REDIS_PORT" >/dev/null || fail "stop of $other exited $?"
rm -rf "$other_home"
run=$other
finish
