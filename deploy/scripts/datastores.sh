#!/usr/bin/env bash
# Private PostgreSQL 15 + Redis on 127.0.0.1 for tests and local runs.
#
#   datastores.sh start|stop|status RUN_DIR PG_PORT REDIS_PORT [--user NAME | --pid PID]
#
# Where things live:
#   PostgreSQL runs as the `postgres` system user (it refuses to run as root),
#   so everything it must reach (data dir, socket dir, its log, the superuser
#   password file) lives in a short folder that user can always reach,
#   whatever the checkout's path: $CRM_DATASTORES_HOME/<12 hex of
#   sha256(RUN_DIR)>/ (default /var/lib/crm/<hash>/: kept across reboots like
#   the data it holds). RUN_DIR/pg is a symlink to it. A checkout under a
#   mode-700 home (/root/...) or with a long path therefore works: the unix
#   socket path stays far below PostgreSQL's 107-byte limit.
#   Redis runs as root and keeps its files in RUN_DIR/redis.
#   Removing RUN_DIR discards the cluster too: the next `start` finds the
#   folder orphaned and deletes it (so does any `start` for folders whose
#   RUN_DIR is gone, when their PostgreSQL is not running).
#
# Users: several runs may share one RUN_DIR (two `ctest` runs in one build
# tree, see "Users" below); `stop` stops the datastores only when no live
# user is left.
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
readonly HOME_ROOT=${CRM_DATASTORES_HOME:-/var/lib/crm}
# sun_path is 108 bytes including the terminating NUL.
readonly MAX_SOCKET_PATH=107

usage() {
  echo "usage: $0 start|stop|status RUN_DIR PG_PORT REDIS_PORT [--user NAME | --pid PID]" >&2
  exit 2
}

[[ $# -eq 4 || $# -eq 6 ]] || usage
readonly ACTION=$1
RUN_DIR=$2
readonly PG_PORT=$3
readonly REDIS_PORT=$4
[[ $PG_PORT =~ ^[0-9]+$ && $REDIS_PORT =~ ^[0-9]+$ ]] || usage
# Who is using the datastores (see "Users" below): a name (`--user launcher`:
# until it calls `stop` with the same name), a process (`--pid PID`: as long
# as that process lives) or, by default, the calling process (the parent of
# this script: the ctest run for the fixture, the shell of a bench script).
USER_KIND=pid
USER_ID=$PPID
if [[ $# -eq 6 ]]; then
  case $5 in
    --user) USER_KIND=name ;;
    --pid) USER_KIND=pid ;;
    *) usage ;;
  esac
  USER_ID=$6
fi
case $USER_KIND in
  name) [[ $USER_ID =~ ^[A-Za-z0-9_.-]+$ ]] || usage ;;
  pid) [[ $USER_ID =~ ^[0-9]+$ ]] || usage ;;
esac
readonly USER_KIND USER_ID
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
readonly RUN_DIR

PG_HOME=$HOME_ROOT/$(printf '%s' "$RUN_DIR" | sha256sum | cut -c1-12)
readonly PG_HOME
readonly PG_LINK=$RUN_DIR/pg
readonly PG_DATA=$PG_HOME/data
readonly PG_SOCK=$PG_HOME/sock
readonly PG_LOG=$PG_HOME/postgres.log
readonly REDIS_DIR=$RUN_DIR/redis
readonly REDIS_PID=$REDIS_DIR/redis.pid
readonly REDIS_LOG=$REDIS_DIR/redis.log
readonly USERS_DIR=$RUN_DIR/users.d

log() { echo "datastores: $*" >&2; }

# shellcheck source=deploy/scripts/daemon_fds.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon_fds.sh"  # close_inherited_fds (our lock is on fd 9)

# From /: the caller's working directory may be one `postgres` cannot enter.
as_pg() { (cd / && runuser -u "$PG_USER" -- "$@"); }

# ---------------------------------------------------------------- PostgreSQL

# pg_home_prepare: PG_HOME exists, is reachable by `postgres`, RUN_DIR/pg
# points at it, and the socket path fits. Also moves a cluster of the old
# layout (a real RUN_DIR/pg folder) into PG_HOME, and removes clusters whose
# RUN_DIR is gone.
pg_home_prepare() {
  local sock_file=$PG_SOCK/.s.PGSQL.$PG_PORT
  if ((${#sock_file} > MAX_SOCKET_PATH)); then
    log "the PostgreSQL socket path $sock_file is ${#sock_file} bytes (maximum $MAX_SOCKET_PATH):"
    log "set CRM_DATASTORES_HOME to a shorter folder (default /var/lib/crm)"
    return 1
  fi
  install -d -m 0755 "$HOME_ROOT"
  pg_home_collect_orphans
  if [[ -d $PG_LINK && ! -L $PG_LINK ]]; then
    # Old layout: everything under RUN_DIR/pg. Keep its data.
    if [[ -f $PG_LINK/data/PG_VERSION ]] &&
      as_pg "$PG_BIN/pg_ctl" status -D "$PG_LINK/data" >/dev/null 2>&1; then
      log "stopping postgres of the old layout in $PG_LINK"
      as_pg "$PG_BIN/pg_ctl" stop -D "$PG_LINK/data" -m fast -w -t "$WAIT_SECONDS" >/dev/null
    fi
    rm -rf "$PG_HOME"
    log "moving $PG_LINK to $PG_HOME (short path the postgres user can reach)"
    mv "$PG_LINK" "$PG_HOME"
  elif [[ -d $PG_HOME && $(readlink "$PG_LINK" 2>/dev/null) != "$PG_HOME" ]]; then
    # RUN_DIR was removed (or never linked here): the cluster is an orphan.
    if pg_running; then
      log "postgres in $PG_HOME is running without $PG_LINK: reused"
    else
      log "removing $PG_HOME: its run folder $PG_LINK was removed"
      rm -rf "$PG_HOME"
    fi
  fi
  install -d -m 0700 -o "$PG_USER" -g "$PG_USER" "$PG_HOME"
  # Link first, then run-dir: pg_home_collect_orphans (run by other run
  # folders' starts) only considers folders with a run-dir whose link is gone.
  ln -sfn "$PG_HOME" "$PG_LINK"
  printf '%s\n' "$RUN_DIR" >"$PG_HOME/run-dir"
  if ! as_pg test -w "$PG_HOME"; then
    log "the postgres system user cannot write $PG_HOME; set CRM_DATASTORES_HOME to a folder it can reach"
    return 1
  fi
}

# Clusters under HOME_ROOT whose run folder no longer links to them (the
# checkout or build tree was deleted) and whose PostgreSQL is not running.
pg_home_collect_orphans() {
  local d owner
  for d in "$HOME_ROOT"/*/; do
    d=${d%/}
    [[ -f $d/run-dir && $d != "$PG_HOME" ]] || continue
    owner=$(<"$d/run-dir")
    [[ $(readlink "$owner/pg" 2>/dev/null) == "$d" ]] && continue
    if [[ -f $d/data/PG_VERSION ]] &&
      as_pg "$PG_BIN/pg_ctl" status -D "$d/data" >/dev/null 2>&1; then
      continue
    fi
    log "removing $d: its run folder $owner is gone"
    rm -rf "$d"
  done
}

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
  install -d -m 0700 -o "$PG_USER" -g "$PG_USER" "$PG_DATA"
  install -d -m 0755 -o "$PG_USER" -g "$PG_USER" "$PG_SOCK"
  # The superuser is only reachable through peer auth on the unix socket; its
  # password is random and kept next to the cluster for debugging.
  local pwfile=$PG_HOME/superuser.pw
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$pwfile")
  chown "$PG_USER:$PG_USER" "$pwfile"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
    --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >"$PG_HOME/initdb.log"
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
  pg_home_prepare
  if pg_running; then
    log "postgres already running (reused)"
  else
    [[ -f $PG_DATA/PG_VERSION ]] || pg_init
    log "starting postgres on 127.0.0.1:$PG_PORT"
    # pg_ctl -w waits for startup itself; -t bounds it. The server inherits
    # no descriptor but stdin/stdout/stderr (close_inherited_fds).
    if ! (close_inherited_fds && as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w \
      -t "$WAIT_SECONDS" -o "-p $PG_PORT -k $PG_SOCK -c listen_addresses=127.0.0.1") >/dev/null; then
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
  if [[ -d $PG_LINK && ! -L $PG_LINK && -f $PG_LINK/data/PG_VERSION ]] &&
    as_pg "$PG_BIN/pg_ctl" status -D "$PG_LINK/data" >/dev/null 2>&1; then
    log "stopping postgres of the old layout in $PG_LINK"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_LINK/data" -m fast -w -t "$WAIT_SECONDS" >/dev/null
  fi
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
  (close_inherited_fds && redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
    --appendonly yes --dir "$REDIS_DIR" --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG")
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

print_paths() {
  echo "CRM_TEST_PG_SOCKET_DIR=$PG_SOCK"
  echo "CRM_TEST_PG_HOME=$PG_HOME"
}

# ---------------------------------------------------------------------- Users
#
# Several runs may share one RUN_DIR (two `ctest` runs in one build tree, the
# launcher's `up` run any number of times): `start` records its user and
# `stop` removes it, stopping the datastores only when no user is left. One
# file per user in RUN_DIR/users.d:
#   name-NAME           a named user (the launcher: `--user launcher`), until
#                       it calls `stop` under the same name; `start` twice
#                       under one name is still one user
#   pid-PID-STARTTIME   a process (the ctest run, a bench script); it counts
#                       only while a process with that pid AND start time
#                       (/proc/PID/stat field 22) lives, so a killed run or a
#                       recycled pid keeps nothing alive
# Dead process users are dropped at every start, stop and status.

# Prints the start time (clock ticks after boot) of process $1, or fails.
proc_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  # Fields after "pid (comm) ": state is field 3, so starttime (22) is the
  # 20th; comm may hold spaces and parentheses, hence the last ") ".
  stat=${stat##*) }
  local -a f
  read -r -a f <<<"$stat"
  [[ ${#f[@]} -ge 20 ]] || return 1
  echo "${f[19]}"
}

# The users.d file name of this invocation's user (fails if a --pid is dead).
my_user_entry() {
  if [[ $USER_KIND == name ]]; then
    echo "name-$USER_ID"
  else
    local st
    st=$(proc_start_time "$USER_ID") || {
      log "user process $USER_ID does not exist"
      return 1
    }
    echo "pid-$USER_ID-$st"
  fi
}

prune_users() {
  local f base pid st
  mkdir -p "$USERS_DIR"
  rm -f "$RUN_DIR/users" # the old counter; users are files now
  for f in "$USERS_DIR"/pid-*; do
    [[ -e $f ]] || continue
    base=${f##*/}
    if [[ $base =~ ^pid-([0-9]+)-([0-9]+)$ ]]; then
      pid=${BASH_REMATCH[1]}
      st=$(proc_start_time "$pid") || st=""
      [[ $st == "${BASH_REMATCH[2]}" ]] && continue
    fi
    log "dropping user $base: its process is gone"
    rm -f "$f"
  done
}

# Prints the live users, one per line (after prune_users).
list_users() {
  local f
  for f in "$USERS_DIR"/*; do
    [[ -e $f ]] && echo "${f##*/}"
  done
  return 0
}

case $ACTION in
  start)
    exec 9>"$RUN_DIR/.lock"
    flock 9
    prune_users
    me=$(my_user_entry)
    pg_start
    redis_start
    : >"$USERS_DIR/$me"
    print_dsns
    print_paths
    ;;
  stop)
    exec 9>"$RUN_DIR/.lock"
    flock 9
    prune_users
    # A --pid that died already was dropped by prune_users.
    me=$(my_user_entry 2>/dev/null) && rm -f "$USERS_DIR/$me"
    # A caller that exec'd into this script (the last command of `bash -c`)
    # is this very process: its use ends here too.
    if [[ $USER_KIND == pid ]] && st=$(proc_start_time $$); then rm -f "$USERS_DIR/pid-$$-$st"; fi
    left=$(list_users)
    if [[ -n $left ]]; then
      log "still used by $(tr '\n' ' ' <<<"$left"): left running"
      exit 0
    fi
    rc=0
    pg_stop || rc=1     # still try to stop redis; the failure is reported via rc
    redis_stop || rc=1
    exit $rc
    ;;
  status)
    # Pruning needs the lock; a start in progress holds it for a while, so
    # status waits a little and otherwise reports without pruning.
    exec 9>"$RUN_DIR/.lock"
    if flock -w 5 9; then prune_users; fi
    rc=0
    if pg_running && pg_ready; then
      echo "postgres: up (127.0.0.1:$PG_PORT, data $PG_DATA, socket $PG_SOCK)"
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
    echo "users: $(list_users | tr '\n' ' ')"
    [[ $rc -ne 0 ]] || { print_dsns; print_paths; }
    exit $rc
    ;;
  *)
    usage
    ;;
esac
