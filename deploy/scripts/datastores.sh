#!/usr/bin/env bash
# Private PostgreSQL 15 + Redis on 127.0.0.1 for tests and local runs.
#
#   datastores.sh start|stop|status RUN_DIR PG_PORT REDIS_PORT
#
# Everything lives under RUN_DIR (pg/data, pg/sock, pg/log, redis/). PostgreSQL
# refuses to run as root, so its binaries run as the `postgres` system user.
#
# Roles created in database `crm`:
#   crm_owner  LOGIN, owns the database and every service schema; runs migrations
#   crm_app    LOGIN, NOSUPERUSER, NOBYPASSRLS, not an owner: subject to RLS
# Both use the password `crm`. These passwords exist ONLY for this private stack
# bound to the loopback interface; real deployments take DSNs from Secrets.
set -euo pipefail

readonly PG_BIN=/usr/lib/postgresql/15/bin
readonly PG_USER=postgres
readonly WAIT_SECONDS=30

usage() {
  echo "usage: $0 start|stop|status RUN_DIR PG_PORT REDIS_PORT" >&2
  exit 2
}

[[ $# -eq 4 ]] || usage
readonly ACTION=$1
RUN_DIR=$2
readonly PG_PORT=$3
readonly REDIS_PORT=$4
[[ $PG_PORT =~ ^[0-9]+$ && $REDIS_PORT =~ ^[0-9]+$ ]] || usage
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
readonly RUN_DIR

readonly PG_DIR=$RUN_DIR/pg
readonly PG_DATA=$PG_DIR/data
readonly PG_SOCK=$PG_DIR/sock
readonly PG_LOG=$PG_DIR/postgres.log
readonly REDIS_DIR=$RUN_DIR/redis
readonly REDIS_PID=$REDIS_DIR/redis.pid
readonly REDIS_LOG=$REDIS_DIR/redis.log

log() { echo "datastores: $*" >&2; }

as_pg() { runuser -u "$PG_USER" -- "$@"; }

# ---------------------------------------------------------------- PostgreSQL

pg_running() {
  # pg_ctl status exits 3 when not running, 4 when there is no data dir; both
  # mean "down" here, so its status is the answer, not a failure.
  [[ -f $PG_DATA/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

pg_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d crm -U crm_app
}

pg_init() {
  log "initdb in $PG_DATA"
  install -d -m 0755 "$RUN_DIR"
  install -d -m 0755 -o "$PG_USER" -g "$PG_USER" "$PG_DIR"
  install -d -m 0700 -o "$PG_USER" -g "$PG_USER" "$PG_DATA"
  install -d -m 0755 -o "$PG_USER" -g "$PG_USER" "$PG_SOCK"
  # The superuser is only reachable through peer auth on the unix socket; its
  # password is random and kept next to the cluster for debugging.
  local pwfile=$PG_DIR/superuser.pw
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$pwfile")
  chown "$PG_USER:$PG_USER" "$pwfile"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
    --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >"$PG_DIR/initdb.log"
  cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- crm private test stack (datastores.sh) ---
listen_addresses = '127.0.0.1'
shared_buffers = 256MB
max_connections = 200
password_encryption = scram-sha-256
EOF
}

pg_bootstrap() {
  # Idempotent: safe on every start.
  as_pg "$PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -d postgres <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_owner') THEN
    CREATE ROLE crm_owner LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_app') THEN
    CREATE ROLE crm_app LOGIN;
  END IF;
END
$$;
-- Local loopback-only passwords (see header comment).
ALTER ROLE crm_owner LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS PASSWORD 'crm';
ALTER ROLE crm_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD 'crm';
SELECT 'CREATE DATABASE crm OWNER crm_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'crm') \gexec
REVOKE ALL ON DATABASE crm FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE crm TO crm_app;
SQL
  as_pg "$PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -d crm <<'SQL'
ALTER SCHEMA public OWNER TO crm_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO crm_app;
SQL
}

pg_start() {
  if pg_running; then
    log "postgres already running (reused)"
  else
    [[ -f $PG_DATA/PG_VERSION ]] || pg_init
    log "starting postgres on 127.0.0.1:$PG_PORT"
    # pg_ctl -w waits for startup itself; -t bounds it.
    # 9>&-: the server must not inherit the lock of `start` (it would hold
    # it for its whole life and block every later start/stop).
    if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$WAIT_SECONDS" \
      -o "-p $PG_PORT -k $PG_SOCK -c listen_addresses=127.0.0.1" >/dev/null 9>&-; then
      log "postgres failed to start; tail of $PG_LOG:"
      tail -n 20 "$PG_LOG" >&2
      return 1
    fi
  fi
  local i
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if "$PG_BIN/pg_isready" -q -h "$PG_SOCK" -p "$PG_PORT"; then break; fi
    sleep 0.2
  done
  pg_bootstrap
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if pg_ready; then return 0; fi
    sleep 0.2
  done
  log "postgres did not accept TCP connections on 127.0.0.1:$PG_PORT within ${WAIT_SECONDS}s"
  return 1
}

pg_stop() {
  if pg_running; then
    log "stopping postgres"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$WAIT_SECONDS" >/dev/null
  else
    log "postgres not running"
  fi
}

# --------------------------------------------------------------------- Redis

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

redis_pid_alive() {
  [[ -s $REDIS_PID ]] && kill -0 "$(cat "$REDIS_PID")" 2>/dev/null
}

redis_ready() {
  [[ $(redis_cli ping 2>/dev/null) == PONG ]]
}

redis_start() {
  if redis_pid_alive && redis_ready; then
    log "redis already running (reused)"
    return 0
  fi
  if redis_ready; then
    log "port $REDIS_PORT answers PING but is not our redis (no live $REDIS_PID)"
    return 1
  fi
  mkdir -p "$REDIS_DIR"
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly yes \
    --dir "$REDIS_DIR" --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" 9>&-
  local i
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if redis_ready; then return 0; fi
    sleep 0.2
  done
  log "redis did not answer PING within ${WAIT_SECONDS}s; tail of $REDIS_LOG:"
  tail -n 20 "$REDIS_LOG" >&2
  return 1
}

redis_stop() {
  if ! redis_pid_alive; then
    log "redis not running"
    return 0
  fi
  log "stopping redis"
  local pid
  pid=$(cat "$REDIS_PID")
  # The connection drops when the server exits, so redis-cli reports an error
  # even on success; success is judged by the process going away below.
  redis_cli shutdown nosave >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$REDIS_PID"
      return 0
    fi
    sleep 0.2
  done
  log "redis (pid $pid) did not exit within ${WAIT_SECONDS}s"
  return 1
}

# ---------------------------------------------------------------------- main

print_dsns() {
  echo "CRM_TEST_PG_OWNER_DSN=postgresql://crm_owner:crm@127.0.0.1:$PG_PORT/crm"
  echo "CRM_TEST_PG_APP_DSN=postgresql://crm_app:crm@127.0.0.1:$PG_PORT/crm"
  echo "CRM_TEST_REDIS_ADDR=127.0.0.1:$REDIS_PORT"
}

# Several runs may share one RUN_DIR (two `ctest` runs in one build tree):
# `start` counts its users and `stop` only stops the datastores when the last
# user is gone, so one run's clean-up never pulls them from under another.
# A count left by a run that died is discarded when the datastores are found
# not running at `start`.
readonly USERS_FILE=$RUN_DIR/users
users() { cat "$USERS_FILE" 2>/dev/null || echo 0; }

case $ACTION in
  start)
    exec 9>"$RUN_DIR/.lock"
    flock 9
    if ! pg_running || ! redis_ready; then echo 0 >"$USERS_FILE"; fi
    # 9>&-: the servers must not inherit the lock (they outlive this script).
    pg_start 9>&-
    redis_start 9>&-
    echo $(($(users) + 1)) >"$USERS_FILE"
    print_dsns
    ;;
  stop)
    exec 9>"$RUN_DIR/.lock"
    flock 9
    left=$(($(users) - 1))
    if ((left > 0)); then
      echo "$left" >"$USERS_FILE"
      log "still used by $left other run(s): left running"
      exit 0
    fi
    echo 0 >"$USERS_FILE"
    rc=0
    pg_stop 9>&- || rc=1     # still try to stop redis; the failure is reported via rc
    redis_stop 9>&- || rc=1
    exit $rc
    ;;
  status)
    rc=0
    if pg_running && pg_ready; then
      echo "postgres: up (127.0.0.1:$PG_PORT, data $PG_DATA)"
    else
      echo "postgres: down"
      rc=1
    fi
    if redis_ready; then
      echo "redis: up (127.0.0.1:$REDIS_PORT)"
    else
      echo "redis: down"
      rc=1
    fi
    [[ $rc -ne 0 ]] || print_dsns
    exit $rc
    ;;
  *)
    usage
    ;;
esac
