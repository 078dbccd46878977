# shellcheck shell=bash
# Shared helpers of the datastores.sh script tests (sourced, not run).
# Each test starts its own PostgreSQL + Redis on ports of its own and stops
# them (and removes everything it created) on exit.

PG_BIN=/usr/lib/postgresql/15/bin
FAILS=0

say() { echo "[$(date +%T)] $*"; }
fail() {
  echo "FAIL: $*" >&2
  FAILS=$((FAILS + 1))
}

pg_answers() {
  PGPASSWORD=crm "$PG_BIN/psql" -X -q -tA -h 127.0.0.1 -p "$1" -U crm_app -d crm \
    -c 'select 42' 2>/dev/null | grep -qx 42
}
redis_answers() { [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

# expect_up|expect_down PG_PORT REDIS_PORT WHAT
expect_up() {
  pg_answers "$1" || fail "$3: PostgreSQL on 127.0.0.1:$1 does not answer"
  redis_answers "$2" || fail "$3: Redis on 127.0.0.1:$2 does not answer"
}
expect_down() {
  # A server that is stopping may still answer for a moment.
  local i
  for ((i = 0; i < 25; i++)); do
    if ! pg_answers "$1" && ! redis_answers "$2"; then return 0; fi
    sleep 0.2
  done
  pg_answers "$1" && fail "$3: PostgreSQL on 127.0.0.1:$1 still answers"
  redis_answers "$2" && fail "$3: Redis on 127.0.0.1:$2 still answers"
  return 0
}

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_free_ports PORT...: exits 1 naming the first port something listens on.
require_free_ports() {
  local p
  for p in "$@"; do
    port_free "$p" || { echo "port $p on 127.0.0.1 is in use (a leftover run?)" >&2; exit 1; }
  done
}

finish() {
  if ((FAILS)); then
    echo "$(basename "$0"): $FAILS check(s) failed"
    return 1
  fi
  echo "$(basename "$0"): all checks passed"
}
