#!/usr/bin/env bash
# Scale-out figures (docs/performance.md, "Scale-out: 1, 2 and 3 instances"): the same loadgen
# scenarios against 1, 2 and 3 agentd instances in cluster mode (one PostgreSQL + one Redis),
# plus one embedded baseline (memory storage, in-process bus) with the same flags. One JSON
# report per (setup, scenario) in OUT, the load average around each in OUT/loadavg.txt, and the
# PostgreSQL / Redis connections per instance sampled while the load runs in OUT/connections.txt.
# Bounded: loopback only, fixed counts, --max-seconds on every scenario; ~5 minutes.
#
#   tests/harness/with-services --pg --redis -- bench/loadgen/scaleout.sh AGENTD_BIN [OUT]
#
#   AGENTD_BIN  a Release build of agentd (it also provides `agentd loadgen`)
#   env: WAIT_RUNS (10000), WAIT_USERS (16), STREAMS (1000), BASE_PORT (18200),
#        SETUPS ("embedded 1 2 3": the order; "3 2 1 embedded" runs it backwards, so that a load
#        average drifting during the session does not always favour the same setup)
# Summary table: bench/loadgen/scaleout_table.py OUT
# Each instance count gets a fresh database (CREATE DATABASE scaleout_n<N>) and an empty Redis
# (FLUSHALL: the with-services Redis is throwaway), and fresh processes for every scenario so
# that RSS starts from a baseline. Only processes this script started are stopped (by pid).
set -euo pipefail
AGENTD="${1:?agentd binary}"
OUT="${2:-/tmp/loadgen-scaleout}"
HERE="$(cd "$(dirname "$0")" && pwd)"
: "${AGENTD_TEST_PG_DSN:?run under tests/harness/with-services --pg --redis}"
: "${AGENTD_TEST_REDIS_URL:?run under tests/harness/with-services --pg --redis}"
WAIT_RUNS="${WAIT_RUNS:-10000}"
WAIT_USERS="${WAIT_USERS:-16}"
STREAMS="${STREAMS:-1000}"
SETUPS="${SETUPS:-embedded 1 2 3}"
BASE_PORT="${BASE_PORT:-18200}"
CONFIG="$HERE/agentd-bench.json"
LG="$AGENTD loadgen"

PG_BASE="${AGENTD_TEST_PG_DSN%/*}"                      # postgresql://agentd@127.0.0.1:PORT
PG_PORT="${PG_BASE##*:}"
REDIS_HOSTPORT="${AGENTD_TEST_REDIS_URL#redis://}"
REDIS_HOSTPORT="${REDIS_HOSTPORT%%/*}"
REDIS_PORT="${REDIS_HOSTPORT##*:}"
mkdir -p "$OUT/logs"
: > "$OUT/loadavg.txt"
: > "$OUT/connections.txt"
: > "$OUT/tiers_cpu.txt"
{
  echo "date_utc $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host $(uname -srm), $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "agentd $AGENTD ($(stat -c %y "$AGENTD" | cut -d. -f1))"
  echo "postgres $(psql -At "$AGENTD_TEST_PG_DSN" -c 'show server_version') on port $PG_PORT; redis $(redis-cli -p "$REDIS_PORT" info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p') on port $REDIS_PORT"
  echo "wait_runs $WAIT_RUNS wait_users $WAIT_USERS streams $STREAMS"
} > "$OUT/session.txt"

PIDS=()
PORTS=()
SAMPLER=""

cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# $1 = instances, $2 = storage, $3 = bus, $4 = label (log names)
start_instances() {
  PIDS=()
  PORTS=()
  for i in $(seq 1 "$1"); do
    local port=$((BASE_PORT + i))
    "$AGENTD" serve --config "$CONFIG" --storage "$2" --bus "$3" --port "$port" --log-level warn \
      >> "$OUT/logs/$4-$i.log" 2>&1 &
    PIDS+=($!)
    PORTS+=("$port")
  done
  for port in "${PORTS[@]}"; do
    local up=0
    for _ in $(seq 150); do
      if curl -sf "127.0.0.1:$port/ok" >/dev/null; then up=1; break; fi
      sleep 0.1
    done
    if [ "$up" -ne 1 ]; then echo "agentd on $port did not start (logs in $OUT/logs)" >&2; exit 1; fi
  done
}

stop_instances() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

# Established TCP connections from each of our pids to a port: "pid:count pid:count".
conns_by_pid() {  # $1 = destination port
  local out="" pid n
  for pid in "${PIDS[@]}"; do
    n=$(ss -tnpH state established "dport = :$1" 2>/dev/null | grep -c "pid=$pid," || true)
    out+="$pid:$n "
  done
  echo "${out% }"
}

# Samples connections every 0.5 s until killed: redis clients (CLIENT LIST, minus our own
# redis-cli), PostgreSQL backends on the database (minus our own psql), and per agentd pid.
sample_connections() {  # $1 = label, $2 = database name ("" = no PostgreSQL)
  while true; do
    local redis pg=0 t
    t=$(date -u +%H:%M:%S.%N | cut -c1-12)
    redis=$(redis-cli -p "$REDIS_PORT" client list | grep -vc 'cmd=client|list' || true)
    if [ -n "$2" ]; then
      pg=$(psql -At "$PG_BASE/$2" -c "select count(*) from pg_stat_activity where datname='$2' and pid <> pg_backend_pid()")
    fi
    echo "$1 $t redis_clients $redis pg_backends $pg redis_by_pid [$(conns_by_pid "$REDIS_PORT")] pg_by_pid [$(conns_by_pid "$PG_PORT")]"
    sleep 0.5
  done
}

start_sampler() { sample_connections "$1" "$2" >> "$OUT/connections.txt" & SAMPLER=$!; }
stop_sampler() { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""; }

# Names of the Redis clients (CLIENT SETNAME) at this moment, counted: what each process holds.
redis_names() {  # $1 = label
  echo "$1 redis CLIENT LIST names: $(redis-cli -p "$REDIS_PORT" client list | grep -v 'cmd=client|list' |
    sed -n 's/.* name=\([^ ]*\) .*/\1/p' | sed 's/^$/(none)/' | sort | uniq -c | awk '{printf "%s x%s, ", $2, $1}')" \
    >> "$OUT/connections.txt"
}

# CPU seconds used so far by a process and its children (live ones, and exited ones it waited
# for: cutime/cstime), from /proc: the loadgen samples agentd only, this adds the tiers.
tree_cpu_ticks() {  # $1 = pid
  local pid=$1 total child
  total=$(awk '{ sub(/.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
  for child in $(pgrep -P "$pid" || true); do
    total=$((total + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$child/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
PG_PID=$(ss -ltnpH "sport = :$PG_PORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
REDIS_PID=$(ss -ltnpH "sport = :$REDIS_PORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
TICKS=$(getconf CLK_TCK)
tiers_cpu() { echo "$(tree_cpu_ticks "$PG_PID") $(tree_cpu_ticks "$REDIS_PID")"; }

run() {  # $1 = name, rest = loadgen args
  local name=$1 before after
  shift
  echo "== $name: $*" >&2
  echo "$name start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/loadavg.txt"
  before=$(tiers_cpu)
  $LG "$@" --json > "$OUT/$name.json" || echo "   ($name reported failures)" >&2
  after=$(tiers_cpu)
  echo "$name end   $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/loadavg.txt"
  # PostgreSQL (postmaster + backends) and Redis CPU seconds during the scenario.
  echo "$before $after" | awk -v n="$name" -v hz="$TICKS" \
    '{ printf "%s postgres_cpu_s %.2f redis_cpu_s %.2f\n", n, ($3 - $1) / hz, ($4 - $2) / hz }' >> "$OUT/tiers_cpu.txt"
}

join_by_comma() { local IFS=,; echo "$*"; }

# $1 = label, $2 = instances, $3 = storage, $4 = bus, $5 = database name ("" for embedded)
scenarios() {
  local label=$1 n=$2 storage=$3 bus=$4 db=$5
  start_instances "$n" "$storage" "$bus" "$label"
  if [ "$bus" != inproc ]; then redis_names "$label idle"; fi
  start_sampler "$label-wait" "$db"
  run "$label-wait-c$WAIT_USERS" wait --ports "$(join_by_comma "${PORTS[@]}")" --assistant echo \
    --runs "$WAIT_RUNS" --concurrency "$WAIT_USERS" --server-pid "$(join_by_comma "${PIDS[@]}")" --max-seconds 30
  stop_sampler
  stop_instances
  for arrivals in burst rampup2; do
    local ramp=()
    [ "$arrivals" = rampup2 ] && ramp=(--rampup-s 2)
    start_instances "$n" "$storage" "$bus" "$label"
    start_sampler "$label-stream-$arrivals" "$db"
    run "$label-stream-$STREAMS-$arrivals" stream --ports "$(join_by_comma "${PORTS[@]}")" \
      --concurrency "$STREAMS" --delay-ms 2000 "${ramp[@]}" --server-pid "$(join_by_comma "${PIDS[@]}")" --max-seconds 60
    if [ "$bus" != inproc ] && [ "$arrivals" = burst ]; then redis_names "$label after stream"; fi
    stop_sampler
    stop_instances
  done
}

for setup in $SETUPS; do
  if [ "$setup" = embedded ]; then
    # Embedded baseline: memory storage, in-process bus, one process, same flags otherwise.
    scenarios embedded 1 memory inproc ""
    continue
  fi
  n=$setup
  db="scaleout_n$n"
  PGOPTIONS="-c client_min_messages=warning" psql -q "$AGENTD_TEST_PG_DSN" -c "drop database if exists $db" -c "create database $db"
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  scenarios "cluster$n" "$n" "$PG_BASE/$db" "$AGENTD_TEST_REDIS_URL" "$db"
done
echo "done: $OUT" >&2
