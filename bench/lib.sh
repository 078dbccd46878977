# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are used by the sourcing scripts
# Shared helpers of the bench scripts (sourced, not run). See bench/README.md.
#
# A bench script sources this file, calls bench_init, starts what it needs
# with bench_start, measures with bench_h2load / bench_wrk, then prints
# bench_report. Everything it started is stopped by the EXIT trap that
# bench_init installs. Only 127.0.0.1 is ever bound or contacted.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
BENCH_RUN_DIR=${BENCH_RUN_DIR:-$BUILD_DIR/bench-run}
BENCH_PY=/usr/bin/python3                       # Debian's, with python3-grpcio
BENCH_GRPC_TOOL=$BENCH_DIR/grpc_tool.py
BENCH_DATASTORES=$REPO/deploy/scripts/datastores.sh
BENCH_BUILD_LOCK=/tmp/crm-build.lock
BENCH_ADMIN_BIN=$BUILD_DIR/services/gateway/crm-admin
BENCH_MIGRATE_BIN=$BUILD_DIR/libs/pg/crm-migrate
# shellcheck source=deploy/scripts/services.sh
source "$REPO/deploy/scripts/services.sh"   # the list of services (k8s/services.yaml)

# Load shape (override through the environment). 64 concurrent streams in
# total: h2load -c 8 connections x -m 8 streams; wrk -c 64 connections.
BENCH_DURATION=${BENCH_DURATION:-15}            # measured seconds per run
BENCH_WARMUP=${BENCH_WARMUP:-2}                 # unmeasured seconds before each run
BENCH_H2_CONNS=${BENCH_H2_CONNS:-8}
BENCH_H2_STREAMS=${BENCH_H2_STREAMS:-8}
BENCH_WRK_CONNS=${BENCH_WRK_CONNS:-64}
BENCH_MAX_ERROR_RATE=${BENCH_MAX_ERROR_RATE:-0.001}   # more errors than this fails the script
BENCH_QUIET_WAIT=${BENCH_QUIET_WAIT:-600}       # seconds to wait for other builds to finish

BENCH_PIDS=()          # processes we started, stopped in reverse order on exit
# Extra environment of one service in this bench, set by the script before
# bench_start_services: BENCH_SVC_ENV[gateway]="CRM_DEFAULT_RATE_LIMIT=1000000"
# (space-separated NAME=VALUE words; values without spaces).
declare -A BENCH_SVC_ENV=()
BENCH_PID_NAMES=()
BENCH_DATASTORES_UP=0
BENCH_PG_HOME=""        # PostgreSQL's folder (data, sock, log), set by bench_datastores_fresh
BENCH_FAILED=0         # set by a run whose error rate is too high
BENCH_RESULTS=""       # TSV: name rps p50 p99 errors requests
BENCH_CPU_RESULTS=""   # TSV: name then "component=cpu-ms-per-1k-requests" fields
BENCH_QUIET_NOTE=""

bench_say() { echo "bench: $*" >&2; }
bench_die() {
  echo "bench: FAILED: $*" >&2
  exit 1
}

# ------------------------------------------------------------------ set-up

bench_init() {
  for tool in h2load wrk curl jq psql redis-cli /usr/bin/time "$BENCH_PY"; do
    command -v "$tool" >/dev/null || bench_die "$tool is not installed"
  done
  # Logs and outputs are per run (the services log one line per RPC).
  rm -rf "$BENCH_RUN_DIR/logs" "$BENCH_RUN_DIR/out"
  mkdir -p "$BENCH_RUN_DIR/logs" "$BENCH_RUN_DIR/out"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# Refuses to start when one of our ports is already taken (another bench, a
# test or the local stack would otherwise be measured instead of ours).
bench_require_free_ports() {
  local p
  for p in "$@"; do
    if ss -Hltn "sport = :$p" | grep -q .; then
      bench_die "port $p on 127.0.0.1 is already in use; is another bench running?"
    fi
  done
}

bench_cpu_note() {
  local cores
  cores=$(nproc)
  echo "CPU: $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'))."
  echo "     NO pinning: the load generator (h2load or wrk, 1 thread) runs on the SAME $cores cores"
  echo "     as the servers under test (echo, or gateway + customer-store + Redis + PostgreSQL)."
  echo "     Absolute req/s are therefore pessimistic; compare ratios taken in the same run."
}

# Waits (bounded) until no compiler runs: other agents share these 2 cores.
bench_wait_quiet() {
  local waited=0
  while pgrep -f 'cc1plus|/ld |collect2|ninja' >/dev/null 2>&1; do
    if ((waited == 0)); then bench_say "a build is running on this machine; waiting up to ${BENCH_QUIET_WAIT}s"; fi
    if ((waited >= BENCH_QUIET_WAIT)); then
      BENCH_QUIET_NOTE="WARNING: a build was still running after ${BENCH_QUIET_WAIT}s; measured anyway (figures are low)"
      bench_say "$BENCH_QUIET_NOTE"
      return 0
    fi
    sleep 5
    waited=$((waited + 5))
  done
  if ((waited > 0)); then BENCH_QUIET_NOTE="waited ${waited}s for another build to finish before measuring"; fi
  return 0
}

# bench_build_echo: builds crm-bench-echo through the shared build lock.
bench_build_echo() {
  if [[ ${CRM_SKIP_BUILD:-0} == 1 ]]; then
    [[ -x $BUILD_DIR/bench/crm-bench-echo ]] || bench_die "CRM_SKIP_BUILD=1 but $BUILD_DIR/bench/crm-bench-echo is missing"
    return 0
  fi
  bench_say "building crm-bench-echo (flock $BENCH_BUILD_LOCK)"
  cmake -S "$REPO" -B "$BUILD_DIR" >/dev/null
  flock "$BENCH_BUILD_LOCK" cmake --build "$BUILD_DIR" -j2 --target crm-bench-echo >/dev/null
  [[ -x $BUILD_DIR/bench/crm-bench-echo ]] || bench_die "the build did not produce $BUILD_DIR/bench/crm-bench-echo"
}

# ------------------------------------------------------------ processes

# bench_start NAME ENV... -- BIN ARGS...: starts a process in the background,
# output in $BENCH_RUN_DIR/logs/NAME.log; its pid goes to BENCH_PIDS.
bench_start() {
  local name=$1
  shift
  local -a envs=()
  while [[ $1 != -- ]]; do
    envs+=("$1")
    shift
  done
  shift
  # setsid: no terminal signals. This shell's children are not group
  # leaders, so setsid execs in place and $! is the process itself.
  setsid env "${envs[@]}" "$@" </dev/null >>"$BENCH_RUN_DIR/logs/$name.log" 2>&1 &
  BENCH_PIDS+=("$!")
  BENCH_PID_NAMES+=("$name")
  bench_say "started $name (pid $!)"
}

bench_pid_of() {
  local i
  for i in "${!BENCH_PID_NAMES[@]}"; do
    if [[ ${BENCH_PID_NAMES[$i]} == "$1" ]]; then
      echo "${BENCH_PIDS[$i]}"
      return 0
    fi
  done
  return 1
}

# bench_wait_for NAME SECONDS CMD...: polls CMD until it succeeds.
bench_wait_for() {
  local name=$1 secs=$2 i pid
  shift 2
  pid=$(bench_pid_of "$name")
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$BENCH_RUN_DIR/logs/$name.log" >&2
      bench_die "$name exited during startup (log: $BENCH_RUN_DIR/logs/$name.log)"
    fi
    sleep 0.25
  done
  tail -n 20 "$BENCH_RUN_DIR/logs/$name.log" >&2
  bench_die "$name not ready within ${secs}s"
}

bench_stop_pid() {
  local name=$1 pid=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 75; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  bench_say "$name (pid $pid) ignored SIGTERM for 15s; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
    bench_stop_pid "${BENCH_PID_NAMES[$i]}" "${BENCH_PIDS[$i]}"
  done
  if ((BENCH_DATASTORES_UP)); then
    "$BENCH_DATASTORES" stop "$BENCH_RUN_DIR" "$BENCH_PG_PORT" "$BENCH_REDIS_PORT" >/dev/null 2>&1 ||
      bench_say "datastores stop reported an error (run dir $BENCH_RUN_DIR)"
  fi
  bench_say "stopped everything this bench started"
  exit "$rc"
}

# ------------------------------------------------------------ services

# bench_services OFFSET: loads the services of k8s/services.yaml with their
# test ports + OFFSET (each bench its own OFFSET, so that benches, tests and
# the local stack never share a port; bench/README.md lists them) and makes
# the page-token secret (BENCH_PAGE_SECRET) and the context key
# (CONTEXT_KEY, see bench_context_seal) the services share.
bench_services() {
  crm_services_load test "$1" || bench_die "cannot read the list of services (k8s/services.yaml)"
  BENCH_PAGE_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
  # Signs the tenant/principal context between the gateway and the services.
  CONTEXT_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')
}

# bench_port SVC NAME: a port of a service in this bench (bench_services first).
bench_port() {
  [[ -n ${CRM_SVC_PORT[$1.$2]:-} ]] || bench_die "service $1 has no port $2 (k8s/services.yaml)"
  echo "${CRM_SVC_PORT[$1.$2]}"
}

# bench_build_services: builds every service, crm-admin and crm-migrate
# through the shared build lock (skipped with CRM_SKIP_BUILD=1).
bench_build_services() {
  [[ ${CRM_SKIP_BUILD:-0} != 1 ]] || return 0
  bench_say "building the services (flock $BENCH_BUILD_LOCK)"
  flock "$BENCH_BUILD_LOCK" cmake --build "$BUILD_DIR" -j2 \
    --target "${CRM_SERVICES[@]}" crm-admin crm-migrate >/dev/null
}

# bench_require_binaries: every service binary, crm-admin and crm-migrate
# must exist.
bench_require_binaries() {
  local svc b bins=()
  for svc in "${CRM_SERVICES[@]}"; do bins+=("$BUILD_DIR/${CRM_SVC_BIN[$svc]}"); done
  for b in "${bins[@]}" "$BENCH_ADMIN_BIN" "$BENCH_MIGRATE_BIN"; do
    [[ -x $b ]] || bench_die "missing $b (build the project first: ./crm up or cmake --build build)"
  done
}

# bench_migrate: every service's schema, in the list's order (after
# bench_datastores_fresh); output in logs/migrate.log.
bench_migrate() {
  local svc
  for svc in "${CRM_SERVICES[@]}"; do
    "$BENCH_MIGRATE_BIN" --dsn "$BENCH_OWNER_DSN" --service "${CRM_SVC_DIR[$svc]}" \
      --dir "$REPO/${CRM_SVC_SCHEMA_DIR[$svc]}" >>"$BENCH_RUN_DIR/logs/migrate.log" 2>&1 ||
      bench_die "migrating ${CRM_SVC_DIR[$svc]} failed (logs/migrate.log)"
  done
}

# bench_service_env SVC: its environment, one NAME=VALUE per line: the
# list's ports and peer addresses, the bench's datastores and keys, a short
# shutdown grace, then BENCH_SVC_ENV[SVC].
bench_service_env() {
  local -a extra=()
  read -r -a extra <<<"${BENCH_SVC_ENV[$1]:-}"
  printf '%s\n' CRM_BIND_HOST=127.0.0.1 "${CRM_SVC_ENV[$1]}" CRM_PG_DSN="$BENCH_APP_DSN" \
    CRM_REDIS_ADDR="$BENCH_REDIS_ADDR" CRM_PAGE_TOKEN_SECRET="$BENCH_PAGE_SECRET" \
    CRM_CONTEXT_KEY="$CONTEXT_KEY" CRM_SHUTDOWN_GRACE=2s "${extra[@]}"
}

# bench_start_service SVC [NAME]: starts SVC as process NAME (default SVC)
# without waiting for it.
bench_start_service() {
  local -a envs
  mapfile -t envs < <(bench_service_env "$1")
  bench_start "${2:-$1}" "${envs[@]}" -- "$BUILD_DIR/${CRM_SVC_BIN[$1]}"
}

# bench_wait_service SVC [NAME]: waits (30 s) for gRPC health SERVING and,
# for a service with an http port (the gateway), /readyz.
bench_wait_service() {
  local name=${2:-$1}
  bench_wait_for "$name" "${BENCH_READY_TIMEOUT:-30}" bench_grpc health "127.0.0.1:${CRM_SVC_PORT[$1.grpc]}"
  if crm_svc_has_port "$1" http; then
    bench_wait_for "$name" 30 curl -sf -o /dev/null --max-time 2 \
      "http://127.0.0.1:${CRM_SVC_PORT[$1.http]}/readyz"
  fi
}

# bench_start_services: every service of the list, in order, each healthy
# before the next starts (the gateway is ready only when every peer is).
bench_start_services() {
  local svc
  for svc in "${CRM_SERVICES[@]}"; do
    bench_start_service "$svc"
    bench_wait_service "$svc"
  done
}

# bench_banner TITLE: the report's first lines (title, commit, CPU).
bench_banner() {
  echo "== $1 — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "   commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "CPU: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), NOT pinned."
}

# bench_cdnow_master: the path of the shared CDNOW_master.txt
# (CRM_SHARED_DATA_DIR, else ../shared/data next to the repository or one
# level up); exits when it is not there.
bench_cdnow_master() {
  local dir=${CRM_SHARED_DATA_DIR:-$REPO/../shared/data}
  [[ -f $dir/CDNOW_master.txt ]] || dir=$REPO/../../shared/data
  [[ -f $dir/CDNOW_master.txt ]] || { echo "bench: CDNOW_master.txt not found; set CRM_SHARED_DATA_DIR" >&2; exit 1; }
  echo "$dir/CDNOW_master.txt"
}

# bench_stack_prepare PG_PORT REDIS_PORT: built services, free ports, fresh
# datastores (then the script migrates and starts the services).
bench_stack_prepare() {
  bench_build_services
  bench_require_binaries
  # shellcheck disable=SC2046  # the ports are words
  bench_require_free_ports $(crm_svc_all_ports)
  bench_datastores_fresh "$1" "$2"
}

# ------------------------------------------------------------ datastores

# bench_datastores_fresh PG_PORT REDIS_PORT: a new, empty PostgreSQL + Redis
# under $BENCH_RUN_DIR (a previous run's are stopped and removed first).
bench_datastores_fresh() {
  BENCH_PG_PORT=$1
  BENCH_REDIS_PORT=$2
  "$BENCH_DATASTORES" stop "$BENCH_RUN_DIR" "$BENCH_PG_PORT" "$BENCH_REDIS_PORT" >/dev/null 2>&1 || true
  rm -rf "$BENCH_RUN_DIR/pg" "$BENCH_RUN_DIR/redis"
  bench_require_free_ports "$BENCH_PG_PORT" "$BENCH_REDIS_PORT"
  BENCH_DATASTORES_UP=1
  "$BENCH_DATASTORES" start "$BENCH_RUN_DIR" "$BENCH_PG_PORT" "$BENCH_REDIS_PORT" >/dev/null
  # PostgreSQL's own folder (data, socket, log): $BENCH_RUN_DIR/pg links to a
  # short path the postgres user can reach (see deploy/scripts/datastores.sh).
  BENCH_PG_HOME=$(readlink -f "$BENCH_RUN_DIR/pg")
  BENCH_OWNER_DSN="postgresql://crm_owner:crm@127.0.0.1:$BENCH_PG_PORT/crm"
  BENCH_APP_DSN="postgresql://crm_app:crm@127.0.0.1:$BENCH_PG_PORT/crm"
  BENCH_REDIS_ADDR="127.0.0.1:$BENCH_REDIS_PORT"
}

# bench_bootstrap_tenant NAME: a tenant and its admin API key through
# crm-admin bootstrap; sets BENCH_KEY (the secret), BENCH_KEY_ID and
# BENCH_TENANT.
bench_bootstrap_tenant() {
  local key_file=$BENCH_RUN_DIR/key
  rm -f "$key_file"
  "$BENCH_ADMIN_BIN" bootstrap --dsn "$BENCH_APP_DSN" --tenant-name "$1" --key-file "$key_file" >/dev/null
  BENCH_KEY=$(tr -d ' \n\r\t' <"$key_file")
  BENCH_KEY_ID=${BENCH_KEY:4:17}
  BENCH_TENANT=$(bench_psql_owner -At <<SQL
SET app.auth = 'on';
SELECT tenant_id FROM access.api_keys WHERE id = '$BENCH_KEY_ID';
SQL
)
  [[ $BENCH_TENANT =~ ^[0-9a-f-]{36}$ ]] ||
    bench_die "no tenant for key $BENCH_KEY_ID (got '$BENCH_TENANT')"
}

# bench_psql_owner [psql args...]: psql as crm_owner, stops on the first error.
bench_psql_owner() {
  PGPASSWORD=crm psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$BENCH_PG_PORT" -U crm_owner -d crm "$@"
}

# ------------------------------------------------------------ gRPC helpers

# The seal the gateway puts on the tenant context (libs/common/context_seal.h),
# for calls straight to a service port: bench_context_seal TENANT PRINCIPAL
# ROLES, with the CONTEXT_KEY the bench started its services with. Valid for
# the 300 s a service accepts: make it right before the run that uses it.
bench_context_seal() {
  local exp mac
  exp=$(($(date +%s) + 300))
  mac=$(printf 'v1\n%s\n%s\n%s\n%s' "$exp" "$1" "$2" "$3" |
    openssl dgst -sha256 -hmac "$CONTEXT_KEY" -r | cut -d' ' -f1)
  printf 'v1.%s.%s' "$exp" "$mac"
}

bench_grpc() { "$BENCH_PY" "$BENCH_GRPC_TOOL" "$@"; }

# ---------------------------------------------------------- CPU accounting

# Prints utime+stime (clock ticks) of a process ("0" if it is gone).
bench_ticks_of() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
    echo 0
    return 0
  }
  # Fields after "pid (comm) ": state is $1, utime $12, stime $13.
  awk '{print $12 + $13}' <<<"${stat##*) }"
}

# Ticks of PostgreSQL: the postmaster and all its children (backends).
bench_pg_ticks() {
  local pm total=0 p
  pm=$(head -n1 "$BENCH_PG_HOME/data/postmaster.pid" 2>/dev/null) || {
    echo 0
    return 0
  }
  for p in "$pm" $(pgrep -P "$pm"); do
    total=$((total + $(bench_ticks_of "$p")))
  done
  echo "$total"
}

# Context switches (voluntary + involuntary) of all threads of a process.
bench_ctxsw_of() {
  awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' /proc/"$1"/task/*/status 2>/dev/null || echo 0
}

# The components accounted per run: NAME=PID pairs; the special name
# "postgres" (no pid) sums the postmaster and its backends. Context switches
# are counted for NAME=PID components only.
BENCH_CPU_COMPONENTS=()

# One line: "name=ticks,ctxsw ... rediscmds=N,0".
bench_cpu_snapshot() {
  local c name pid out=""
  for c in "${BENCH_CPU_COMPONENTS[@]}"; do
    name=${c%%=*}
    pid=${c#*=}
    case $name in
      postgres) out+="$name=$(bench_pg_ticks),0 " ;;
      *) out+="$name=$(bench_ticks_of "$pid"),$(bench_ctxsw_of "$pid") " ;;
    esac
  done
  local cmds=0
  if [[ -n ${BENCH_REDIS_PORT:-} ]]; then
    cmds=$(redis-cli -h 127.0.0.1 -p "$BENCH_REDIS_PORT" info stats 2>/dev/null |
      awk -F: '/^total_commands_processed:/ { print $2 + 0 }')
  fi
  out+="rediscmds=${cmds:-0},0"
  echo "$out"
}

# bench_cpu_delta BEFORE AFTER REQUESTS LOADGEN_SECONDS: two TAB-separated
# fields: "name=cpu-ms-per-1k-requests ..." and "name=per-request ...".
bench_cpu_delta() {
  local before=$1 after=$2 reqs=$3 loadgen_s=$4 hz
  hz=$(getconf CLK_TCK)
  awk -v b="$before" -v a="$after" -v n="$reqs" -v hz="$hz" -v lg="$loadgen_s" 'BEGIN {
    nb = split(b, B, " "); split(a, A, " ");
    if (n <= 0) n = 1;
    cpu = sprintf("loadgen=%.1f", lg * 1000 * 1000 / n); per = "";
    for (i = 1; i <= nb; i++) {
      split(B[i], x, "="); split(A[i], y, "="); split(x[2], xv, ","); split(y[2], yv, ",");
      if (x[1] == "rediscmds") { per = per sprintf(" redis-commands=%.2f", (yv[1] - xv[1]) / n); continue }
      cpu = cpu sprintf(" %s=%.1f", x[1], (yv[1] - xv[1]) * 1000 / hz * 1000 / n);
      if (x[1] != "postgres" && x[1] != "redis") per = per sprintf(" %s-ctxsw=%.2f", x[1], (yv[2] - xv[2]) / n);
    }
    sub(/^ /, "", per);
    printf "%s\t%s\n", cpu, per;
  }'
}

# ------------------------------------------------------------ metrics

# bench_metric_sum URL REGEX: sum of the Prometheus samples whose line matches.
bench_metric_sum() {
  curl -s --max-time 5 "$1" | grep -E "$2" | awk '{s += $NF} END {printf "%d\n", s}'
}

# ------------------------------------------------------------ percentiles

# bench_percentiles FILE COLUMN: "p50_ms p99_ms count" of the microsecond
# values in COLUMN (nearest rank).
bench_percentiles() {
  local file=$1 col=$2
  cut -f"$col" "$file" | sort -n | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "nan nan 0"; exit }
      i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++; if (i50 < 1) i50 = 1
      i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++; if (i99 < 1) i99 = 1
      printf "%.3f %.3f %d\n", v[i50] / 1000, v[i99] / 1000, NR
    }'
}

# ------------------------------------------------------------ load runs

# bench_record NAME RPS P50 P99 ERRORS REQUESTS CPU
bench_record() {
  BENCH_RESULTS+="$1	$2	$3	$4	$5	$6"$'\n'
  BENCH_CPU_RESULTS+="$1	$7"$'\n'   # $7 is "cpu<TAB>per-request"
  local rate
  rate=$(awk -v e="$5" -v n="$6" 'BEGIN { print (n > 0 ? e / n : 1) }')
  if awk -v r="$rate" -v m="$BENCH_MAX_ERROR_RATE" 'BEGIN { exit !(r > m) }'; then
    echo "bench: FAILED: $1: $5 errors in $6 requests (rate $rate > $BENCH_MAX_ERROR_RATE)" >&2
    BENCH_FAILED=1
  fi
}

# bench_h2load NAME URL BODY_FILE RESPONSE_BYTES [HEADER...]
#   gRPC unary load with h2load: BENCH_H2_CONNS connections x BENCH_H2_STREAMS
#   streams, BENCH_WARMUP s unmeasured then BENCH_DURATION s measured.
#   h2load only sees HTTP statuses, and a failed gRPC call is still HTTP 200,
#   so gRPC errors are counted from the DATA bytes: every OK reply here carries
#   exactly one message of RESPONSE_BYTES (+5 bytes of gRPC framing), an error
#   carries none (trailers only). Extra checks (server metrics) are the
#   caller's job.
bench_h2load() {
  local name=$1 url=$2 body=$3 resp_bytes=$4
  shift 4
  local -a hdrs=(-H 'content-type: application/grpc' -H 'te: trailers')
  local h
  for h in "$@"; do hdrs+=(-H "$h"); done
  local out=$BENCH_RUN_DIR/out/$name.h2load.txt log=$BENCH_RUN_DIR/out/$name.h2load.log
  local tm=$BENCH_RUN_DIR/out/$name.time
  rm -f "$log"
  bench_say "$name: h2load -c $BENCH_H2_CONNS -m $BENCH_H2_STREAMS, ${BENCH_WARMUP}s warm-up + ${BENCH_DURATION}s -> $url"
  local before after h2pid
  # h2load is bounded by -D; timeout is a backstop if it hangs. The CPU
  # snapshot is taken when its warm-up ends, so CPU and context switches are
  # divided by the requests of the same (measured) window.
  timeout -k 5 $((BENCH_DURATION + BENCH_WARMUP + 30)) \
    /usr/bin/time -f '%U %S' -o "$tm" \
    h2load -t 1 -c "$BENCH_H2_CONNS" -m "$BENCH_H2_STREAMS" \
    -D "$BENCH_DURATION" --warm-up-time="$BENCH_WARMUP" \
    "${hdrs[@]}" -d "$body" --log-file="$log" "$url" >"$out" 2>&1 &
  h2pid=$!
  sleep "$BENCH_WARMUP"
  before=$(bench_cpu_snapshot)
  wait "$h2pid" || bench_die "$name: h2load failed: $(tail -n 5 "$out")"
  after=$(bench_cpu_snapshot)

  local rps done_n ok2xx failed errored timeouts data
  rps=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' "$out")
  read -r done_n failed errored timeouts < <(awk '/^requests:/ {
      for (i = 1; i <= NF; i++) {
        if ($i == "done,") d = $(i-1); if ($i == "failed,") f = $(i-1);
        if ($i == "errored,") e = $(i-1); if ($i == "timeout") t = $(i-1);
      }
      print d, f, e, t }' "$out")
  ok2xx=$(awk '/^status codes:/ { print $3 }' "$out")
  data=$(awk '/^traffic:/ { for (i = 1; i <= NF; i++) if ($i == "data") { gsub(/[()]/, "", $(i-1)); print $(i-1) } }' "$out")
  [[ -n $rps && -n $done_n && -n $data ]] || bench_die "$name: cannot parse h2load output ($out)"
  local grpc_ok errors
  grpc_ok=$((data / (resp_bytes + 5)))
  if ((grpc_ok > ok2xx)); then grpc_ok=$ok2xx; fi
  errors=$((done_n - grpc_ok + failed + errored + timeouts))
  if ((data % (resp_bytes + 5) != 0)); then
    bench_say "$name: WARNING: DATA bytes ($data) are not a multiple of one reply ($((resp_bytes + 5)))"
  fi

  local p50 p99 n lg cpu
  read -r p50 p99 n < <(awk -F'\t' '$2 == 200' "$log" | bench_percentiles /dev/stdin 3)
  # /usr/bin/time covers h2load's warm-up too: keep the measured share.
  lg=$(awk -v d="$BENCH_DURATION" -v w="$BENCH_WARMUP" '{ print ($1 + $2) * d / (d + w) }' "$tm")
  cpu=$(bench_cpu_delta "$before" "$after" "$done_n" "$lg")
  bench_say "$name: $rps req/s, p50 $p50 ms, p99 $p99 ms ($n latencies), $done_n done, $errors errors"
  bench_record "$name" "$rps" "$p50" "$p99" "$errors" "$done_n" "$cpu"
}

# bench_wrk NAME URL LUA [LUA ARGS...]: HTTP/1.1 load with wrk, one thread,
#   BENCH_WRK_CONNS connections; a BENCH_WARMUP s run first (discarded). The
#   Lua script's done() prints a WRK_RESULT line (see wrk_common.lua).
bench_wrk() {
  local name=$1 url=$2 lua=$3
  shift 3
  local out=$BENCH_RUN_DIR/out/$name.wrk.txt tm=$BENCH_RUN_DIR/out/$name.time
  bench_say "$name: wrk -t 1 -c $BENCH_WRK_CONNS, ${BENCH_WARMUP}s warm-up + ${BENCH_DURATION}s -> $url"
  timeout -k 5 $((BENCH_WARMUP + 30)) \
    wrk -t 1 -c "$BENCH_WRK_CONNS" -d "${BENCH_WARMUP}s" --timeout 5s -s "$lua" "$url" -- "$@" \
    >"$out.warmup" 2>&1 || bench_die "$name: wrk warm-up failed: $(tail -n 5 "$out.warmup")"
  local before after
  before=$(bench_cpu_snapshot)
  timeout -k 5 $((BENCH_DURATION + 30)) \
    /usr/bin/time -f '%U %S' -o "$tm" \
    wrk -t 1 -c "$BENCH_WRK_CONNS" -d "${BENCH_DURATION}s" --timeout 5s --latency -s "$lua" "$url" -- "$@" \
    >"$out" 2>&1 || bench_die "$name: wrk failed: $(tail -n 5 "$out")"
  after=$(bench_cpu_snapshot)
  local line
  line=$(grep '^WRK_RESULT ' "$out") || bench_die "$name: no WRK_RESULT line in $out"
  local -A r=()
  local kv
  for kv in ${line#WRK_RESULT }; do r[${kv%%=*}]=${kv#*=}; done
  local rps p50 p99 errors lg cpu
  rps=$(awk -v n="${r[requests]}" -v us="${r[duration_us]}" 'BEGIN { printf "%.2f", n / (us / 1e6) }')
  p50=$(awk -v v="${r[p50_us]}" 'BEGIN { printf "%.3f", v / 1000 }')
  p99=$(awk -v v="${r[p99_us]}" 'BEGIN { printf "%.3f", v / 1000 }')
  errors=$((r[errors_status] + r[errors_connect] + r[errors_read] + r[errors_write] + r[errors_timeout]))
  lg=$(awk '{ print $1 + $2 }' "$tm")
  cpu=$(bench_cpu_delta "$before" "$after" "${r[requests]}" "$lg")
  bench_say "$name: $rps req/s, p50 $p50 ms, p99 $p99 ms, ${r[requests]} requests, $errors errors"
  bench_record "$name" "$rps" "$p50" "$p99" "$errors" "${r[requests]}" "$cpu"
}

# ------------------------------------------------------------ report

bench_rps_of() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' <<<"$BENCH_RESULTS"; }
bench_p99_of() { awk -F'\t' -v n="$1" '$1 == n { print $4 }' <<<"$BENCH_RESULTS"; }

# bench_report BASELINE_NAME: the results table, ratios to BASELINE_NAME.
bench_report() {
  local base_rps
  base_rps=$(bench_rps_of "$1")
  printf '\n%-28s %10s %9s %9s %9s %9s %11s\n' name req/s "p50 ms" "p99 ms" "x $1" errors requests
  printf '%s\n' "-------------------------------------------------------------------------------------------"
  awk -F'\t' -v b="$base_rps" 'NF >= 6 {
    printf "%-28s %10.0f %9.2f %9.2f %9.2f %9d %11d\n", $1, $2, $3, $4, (b > 0 ? $2 / b : 0), $5, $6
  }' <<<"$BENCH_RESULTS"
  printf '\nCPU per 1000 requests (ms of CPU time, user+sys; loadgen = h2load/wrk itself):\n'
  awk -F'\t' 'NF >= 2 {
    printf "  %-22s", $1; n = split($2, f, " ");
    for (i = 1; i <= n; i++) { split(f[i], kv, "="); printf " %s %.1f ", kv[1], kv[2] }
    printf "\n" }' <<<"$BENCH_CPU_RESULTS"
  printf '\nPer request: context switches of each server process (all threads), Redis commands:\n'
  awk -F'\t' 'NF >= 3 {
    printf "  %-22s", $1; n = split($3, f, " ");
    for (i = 1; i <= n; i++) { split(f[i], kv, "="); printf " %s %.2f ", kv[1], kv[2] }
    printf "\n" }' <<<"$BENCH_CPU_RESULTS"
}

# ------------------------------------------------- helpers (import bench)

# bench_psql_super [psql args...]: psql as the PostgreSQL superuser of the
# private cluster (peer auth on its unix socket, as the postgres system user;
# see deploy/scripts/datastores.sh). For settings the owner may not change.
bench_psql_super() {
  runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$BENCH_PG_HOME/sock" \
    -p "$BENCH_PG_PORT" -d crm "$@"
}

# Ticks of PostgreSQL including backends that EXITED meanwhile (a psql
# session that connected and left): the postmaster's own ticks, the ticks of
# the children it reaped (cutime + cstime) and those of its live children.
bench_pg_ticks_all() {
  local pm stat total=0 p
  pm=$(head -n1 "$BENCH_PG_HOME/data/postmaster.pid" 2>/dev/null) || {
    echo 0
    return 0
  }
  stat=$(cat "/proc/$pm/stat" 2>/dev/null) || {
    echo 0
    return 0
  }
  total=$(awk '{print $12 + $13 + $14 + $15}' <<<"${stat##*) }")
  for p in $(pgrep -P "$pm"); do
    total=$((total + $(bench_ticks_of "$p")))
  done
  echo "$total"
}

# ------------------------------------------- helpers (order latency bench)

# bench_pg_restart: restarts the private PostgreSQL with its previous options
# (pg_ctl restart reuses postmaster.opts), for settings that need a restart
# (e.g. track_commit_timestamp, set with ALTER SYSTEM before).
bench_pg_restart() {
  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl restart -D "$BENCH_PG_HOME/data" \
    -m fast -w -t 30 -l "$BENCH_PG_HOME/postgres.log" >/dev/null ||
    bench_die "restarting PostgreSQL failed (log: $BENCH_PG_HOME/postgres.log)"
  local i
  for ((i = 0; i < 150; i++)); do
    pg_isready -q -h 127.0.0.1 -p "$BENCH_PG_PORT" && return 0
    sleep 0.2
  done
  bench_die "PostgreSQL did not come back within 30s"
}

# ---- optional perf profile of a measured run (BENCH_PERF=1; writes $OUT/perf-*.txt)
PERF_PID=""
perf_start() {
  [[ ${BENCH_PERF:-0} == 1 ]] || return 0
  # Bounded by its workload (sleep 600); perf_stop ends both.
  perf record -q -a -g -F 499 -o "$OUT/perf.data" -- sleep 600 >"$OUT/perf.log" 2>&1 &
  PERF_PID=$!
}
perf_stop() {
  # The profile is optional output (BENCH_PERF=1): a perf that is missing,
  # already gone or cannot report must not fail the measured bench, hence the
  # `|| true` on every step below.
  [[ -n $PERF_PID ]] || return 0
  local sleeper
  sleeper=$(pgrep -P "$PERF_PID" -x sleep || true)
  kill -TERM "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" || true
  if [[ -n $sleeper ]]; then kill "$sleeper" 2>/dev/null || true; fi
  perf report -i "$OUT/perf.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
    grep -v -e '^#' -e '^$' | sed 's/ *$//' | head -n 30 >"$OUT/perf-dso.txt" || true
  perf report -i "$OUT/perf.data" --no-children --sort comm,symbol --stdio -g none 2>/dev/null |
    grep -v -e '^#' -e '^$' | sed 's/ *$//' | head -n 80 >"$OUT/perf-symbols.txt" || true
  PERF_PID=""
}
