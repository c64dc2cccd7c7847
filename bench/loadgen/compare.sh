#!/usr/bin/env bash
# Runs every loadgen scenario against agentd and the reference server, one after the other on
# this machine, and leaves one JSON report per (server, scenario) in $OUT (docs/performance.md).
# Bounded: loopback only, fixed counts, --max-seconds on every scenario.
#
#   bench/loadgen/compare.sh AGENTD_BIN PEER_DIR [OUT]
#   AGENTD_BIN  a Release build of agentd (it also provides `agentd loadgen`)
#   LOADGEN     (env, optional) the loadgen command, default "$AGENTD loadgen"
#   PEER_DIR    a copy of /work/shared/peer with node_modules (it is started and stopped here)
set -euo pipefail
AGENTD="${1:?agentd binary}"
PEER_DIR="${2:?peer dir}"
OUT="${3:-/tmp/loadgen-results}"
HERE="$(cd "$(dirname "$0")" && pwd)"
APORT=18123
PPORT=12324
MPORT=19087
mkdir -p "$OUT"
LG="${LOADGEN:-$AGENTD loadgen}"  # LOADGEN: another loadgen binary

start_agentd() {  # $1 = storage (memory|sqlite), $2 = data dir
  rm -rf "$2" && mkdir -p "$2"
  "$AGENTD" serve --config "$HERE/agentd-bench.json" --storage "$1" --data-dir "$2" --port $APORT \
    --log-level warn > "$OUT/agentd-$1.log" 2>&1 &
  APID=$!
  for _ in $(seq 100); do curl -sf 127.0.0.1:$APORT/ok >/dev/null && return; sleep 0.1; done
  echo "agentd did not start" >&2; exit 1
}
stop_agentd() { kill -TERM "$APID"; wait "$APID" || true; }
start_peer() {
  (cd "$PEER_DIR" && rm -rf run && PEER_MODE=direct PEER_JOBS="${PEER_JOBS:-10}" LOG_LEVEL=warn ./start.sh $PPORT $MPORT >/dev/null)
  # start.sh records a process-group leader; the server is the node process listening on PPORT.
  PPID_SERVER=$(ss -ltnpH "sport = :$PPORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
}
stop_peer() { (cd "$PEER_DIR" && ./stop.sh >/dev/null 2>&1 || true); }

run() {  # $1 = name, rest = loadgen args
  local name=$1; shift
  echo "== $name: $*" >&2
  # The machine is shared: keep the load average (1/5/15 min) next to every figure.
  echo "$name start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/loadavg.txt"
  $LG "$@" --json > "$OUT/$name.json" || echo "   ($name reported failures)" >&2
  echo "$name end   $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/loadavg.txt"
}

# agentd, memory storage; a fresh process per memory figure so that RSS starts from a baseline
start_agentd memory /tmp/loadgen-agentd-mem
run agentd-wait-c16 wait --port $APORT --assistant echo --runs 20000 --concurrency 16 --server-pid $APID --max-seconds 60
run agentd-wait-c64 wait --port $APORT --assistant echo --runs 20000 --concurrency 64 --server-pid $APID --max-seconds 60
stop_agentd; start_agentd memory /tmp/loadgen-agentd-mem
run agentd-stream-1000-burst stream --port $APORT --concurrency 1000 --delay-ms 2000 --server-pid $APID --max-seconds 60
stop_agentd; start_agentd memory /tmp/loadgen-agentd-mem
run agentd-stream-1000-rampup2 stream --port $APORT --concurrency 1000 --delay-ms 2000 --rampup-s 2 --server-pid $APID --max-seconds 60
run agentd-stream-1000-sustained stream --port $APORT --concurrency 1000 --runs 3000 --delay-ms 2000 --rampup-s 2 --server-pid $APID --max-seconds 60
stop_agentd; start_agentd memory /tmp/loadgen-agentd-mem
run agentd-stream-9000-burst stream --port $APORT --concurrency 9000 --procs 2 --delay-ms 2000 --server-pid $APID --max-seconds 120
stop_agentd; start_agentd memory /tmp/loadgen-agentd-mem
run agentd-connections connections --port $APORT --subscribers 5000 --runs 50 --hold-s 5 --server-pid $APID --max-seconds 60
stop_agentd; start_agentd memory /tmp/loadgen-agentd-mem
run agentd-ramp-rampup2-50ms ramp --port $APORT --levels 500,1000,2000,4000,6000,9000 --procs 2 --delay-ms 2000 --rampup-s 2 --max-overhead-ms 50 --server-pid $APID --max-seconds 60
stop_agentd; start_agentd memory /tmp/loadgen-agentd-mem
run agentd-ramp-burst-1000ms ramp --port $APORT --levels 500,1000,2000,4000,6000,9000 --procs 2 --delay-ms 2000 --max-overhead-ms 1000 --server-pid $APID --max-seconds 60
stop_agentd
# agentd, SQLite storage: history (file growth measured in the data dir), then streams
start_agentd sqlite /tmp/loadgen-agentd-sqlite
run agentd-history-1000 history --port $APORT --assistant agent --turns 1000 --data-dir /tmp/loadgen-agentd-sqlite --server-pid $APID --max-seconds 300
stop_agentd
# the same history on memory storage (no file growth; time per turn without SQLite)
start_agentd memory /tmp/loadgen-agentd-mem
run agentd-history-1000-memory history --port $APORT --assistant agent --turns 1000 --server-pid $APID --max-seconds 300
stop_agentd
start_agentd sqlite /tmp/loadgen-agentd-sqlite
run agentd-sqlite-stream-1000-rampup2 stream --port $APORT --concurrency 1000 --delay-ms 2000 --rampup-s 2 --server-pid $APID --max-seconds 60
stop_agentd; start_agentd sqlite /tmp/loadgen-agentd-sqlite
run agentd-sqlite-stream-9000 stream --port $APORT --concurrency 9000 --procs 2 --delay-ms 2000 --server-pid $APID --max-seconds 120
stop_agentd
# out of the box: the demo configuration (no --config), 1,000 concurrent streams
"$AGENTD" serve --storage memory --port $APORT --log-level warn > "$OUT/agentd-demo.log" 2>&1 &
APID=$!
for _ in $(seq 100); do curl -sf 127.0.0.1:$APORT/ok >/dev/null && break; sleep 0.1; done
run agentd-demo-stream-1000-burst stream --port $APORT --concurrency 1000 --delay-ms 2000 --server-pid $APID --max-seconds 60
stop_agentd

# the reference server, default PEER_JOBS=10, then PEER_JOBS=1000 (its best case for concurrency)
start_peer
run peer-wait-c16-jobs10 wait --port $PPORT --assistant echo --runs 1000 --concurrency 16 --server-pid $PPID_SERVER --max-seconds 60
run peer-stream-1000-burst-jobs10 stream --port $PPORT --concurrency 1000 --delay-ms 2000 --server-pid $PPID_SERVER --max-seconds 120 --timeout-s 120
run peer-connections connections --port $PPORT --subscribers 5000 --runs 50 --hold-s 5 --server-pid $PPID_SERVER --max-seconds 60
stop_peer
start_peer
run peer-history history --port $PPORT --assistant agent --turns 1000 --server-pid $PPID_SERVER --max-seconds 300
stop_peer
PEER_JOBS=1000 start_peer
run peer-jobs1000-wait-c64 wait --port $PPORT --assistant echo --runs 2000 --concurrency 64 --server-pid $PPID_SERVER --max-seconds 60
run peer-jobs1000-stream-1000-rampup2 stream --port $PPORT --concurrency 1000 --delay-ms 2000 --rampup-s 2 --server-pid $PPID_SERVER --max-seconds 120
stop_peer
echo "reports in $OUT" >&2
