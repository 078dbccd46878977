#!/usr/bin/env bash
# datastores.sh counts live users, not calls:
#   - the launcher (`./crm up` passes `--user launcher`) is one user however
#     often it starts: up, up, down stops everything;
#   - a user whose process was killed (a ctest run killed before its cleanup
#     fixture) does not keep the datastores running, and neither does an entry
#     whose pid was recycled by another process;
#   - a live process user does keep them running;
#   - a caller that execs into its own stop is that stop's user;
#   - the servers do not keep the caller's descriptors (a flock around
#     `start` is released when `start` returns).
#
#   test_users.sh DATASTORES_SH [PG_PORT REDIS_PORT]
set -uo pipefail
DS=${1:?path of deploy/scripts/datastores.sh}
PG_PORT=${2:-31435}
REDIS_PORT=${3:-31382}
# shellcheck source=tests/datastores/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_free_ports "$PG_PORT" "$REDIS_PORT"

run=$(mktemp -d /tmp/crm-ds-users-XXXXXX)
holders=()
cleanup() {
  local pid
  for pid in "${holders[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$run/users.d"
  "$DS" stop "$run" "$PG_PORT" "$REDIS_PORT" --user launcher >/dev/null 2>&1
  local home
  home=$(readlink -f "$run/pg")
  rm -rf "$run"
  [[ $home == /*/* && $home != "$run/pg" ]] && rm -rf "$home"
  return 0
}
trap cleanup EXIT
ds() { "$DS" "$1" "$run" "$PG_PORT" "$REDIS_PORT" "${@:2}"; }
users() { ds status 2>/dev/null | sed -n 's/^users: //p'; }

say "1. the launcher: start twice, stop once"
ds start --user launcher >/dev/null || fail "start 1 exited $?"
ds start --user launcher >/dev/null || fail "start 2 exited $?"
expect_up "$PG_PORT" "$REDIS_PORT" "launcher started twice"
[[ $(users) == "name-launcher " ]] || fail "users after two launcher starts: '$(users)'"
ds stop --user launcher || fail "stop exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "launcher: up, up, down"

say "2. a live process user keeps them running; once killed it does not"
sleep 600 &
holder=$!
holders+=("$holder")
ds start --pid "$holder" >/dev/null || fail "start --pid exited $?"
ds start --user launcher >/dev/null || fail "start launcher exited $?"
ds stop --user launcher || fail "stop launcher exited $?"
expect_up "$PG_PORT" "$REDIS_PORT" "launcher stopped while a live process uses them"
kill -KILL "$holder"
wait "$holder" 2>/dev/null
ds start --user launcher >/dev/null || fail "start launcher exited $?"
ds stop --user launcher || fail "stop launcher exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "launcher stopped after the other user was killed"

say "3. the default user is the caller (a ctest run): killed before its stop"
# The caller is the bash below: it starts the datastores (as ctest runs the
# fixture) and is killed before it could stop them.
bash -c '"$1" start "$2" "$3" "$4" >/dev/null && echo started && exec sleep 600' \
  caller "$DS" "$run" "$PG_PORT" "$REDIS_PORT" >"$run/caller.out" 2>&1 &
caller=$!
holders+=("$caller")
for ((i = 0; i < 600; i++)); do
  grep -q started "$run/caller.out" 2>/dev/null && break
  kill -0 "$caller" 2>/dev/null || break
  sleep 0.1
done
grep -q started "$run/caller.out" || fail "the caller did not start the datastores: $(cat "$run/caller.out")"
[[ $(users) == pid-"$caller"-* ]] || fail "users while the caller lives: '$(users)' (caller $caller)"
kill -KILL "$caller"
wait "$caller" 2>/dev/null
[[ -z $(users | tr -d ' ') ]] || fail "users after the caller was killed: '$(users)'"
# Another run starts and stops: it is the only live user, so it stops them.
ds start >/dev/null || fail "start (this script) exited $?"
ds stop || fail "stop (this script) exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "second run after the first was killed"

say "4. a recycled pid does not count: same pid, other start time"
ds start --user launcher >/dev/null || fail "start launcher exited $?"
: >"$run/users.d/pid-$$-1"
ds stop --user launcher || fail "stop launcher exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "an entry naming a live pid with another start time"

say "5. the old counter file is ignored"
echo 7 >"$run/users"
ds start --user launcher >/dev/null || fail "start launcher exited $?"
ds stop --user launcher || fail "stop launcher exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "with an old users counter of 7"
say "6. a caller that execs into its stop (the last command of bash -c) ends its use"
bash -c '"$1" start "$2" "$3" "$4" >/dev/null && "$1" stop "$2" "$3" "$4"' \
  caller "$DS" "$run" "$PG_PORT" "$REDIS_PORT" || fail "bash -c start; stop exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "start, then stop exec'd by the same caller"

say "7. the servers keep no descriptor of the caller (a flock around start)"
# From stopped datastores (whatever case 6 left), so that they start here.
rm -f "$run"/users.d/*
ds stop >/dev/null 2>&1
lock=$run/caller.lock
flock "$lock" "$DS" start "$run" "$PG_PORT" "$REDIS_PORT" --user launcher >/dev/null ||
  fail "flock ... start exited $?"
expect_up "$PG_PORT" "$REDIS_PORT" "started under flock"
flock -n "$lock" true || fail "the lock taken around start is still held by a datastore process"
ds stop --user launcher || fail "stop launcher exited $?"
expect_down "$PG_PORT" "$REDIS_PORT" "after 7"
finish
