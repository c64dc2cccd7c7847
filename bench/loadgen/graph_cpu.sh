#!/usr/bin/env bash
# Server CPU per node of a graph-file workflow turn against per step of a react turn
# (docs/performance.md "Graph files: CPU per node"). For each storage (SQLite, then memory) it
# starts `AGENTD_BIN serve --config bench/loadgen/agentd-graph-bench.json` on a free loopback
# port, warms up, then runs `agentd loadgen wait` (a thread + runs/wait per run) RUNS times on
# `agent` with "what is the weather in paris" (model -> tools -> model: 3 steps) and on `five`
# (graphs/five.yaml: 5 nodes), and prints the server's CPU per run and per step. Bounded:
# fixed run counts, --max-seconds on every scenario; the server it started is stopped by pid.
#   bench/loadgen/graph_cpu.sh AGENTD_BIN [RUNS] [OUT]
set -euo pipefail
BIN=${1:?usage: graph_cpu.sh AGENTD_BIN [RUNS] [OUT]}
RUNS=${2:-2000}
OUT=${3:-$(mktemp -d)}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; }
trap cleanup EXIT

measure() {  # storage assistant steps message
  local storage=$1 assistant=$2 steps=$3 message=$4 report="$OUT/$1-$2.json"
  "$BIN" loadgen wait --port "$PORT" --assistant "$assistant" --message "$message" --runs "$RUNS" \
    --concurrency 2 --server-pid "$PID" --max-seconds 300 --json > "$report"
  python3 - "$report" "$storage" "$assistant" "$steps" "$RUNS" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
storage, assistant, steps, runs = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
errors = sum(r["errors"].values()) if r["errors"] else 0
cpu_ms = r["server"]["cpu_seconds"] * 1000.0
print(f"{storage:7} {assistant:6} runs={r['counters']['completed']} errors={errors} "
      f"server_cpu_ms_per_run={cpu_ms / runs:.3f} per_step={cpu_ms / runs / steps:.3f} "
      f"runs_per_s={r['figures']['runs_per_s']:.0f}")
PY
}

for storage in sqlite memory; do
  DATA=$(mktemp -d)
  LOG="$OUT/server-$storage.log"
  "$BIN" serve --config "$HERE/agentd-graph-bench.json" --storage "$storage" --data-dir "$DATA" \
    --port 0 --threads 2 > "$LOG" 2>&1 &
  PID=$!
  PORT=""
  for _ in $(seq 1 200); do
    PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$LOG" | head -1 | sed 's/.*://' || true)
    [ -n "$PORT" ] && break
    sleep 0.1
  done
  [ -n "$PORT" ] || { echo "server did not start:"; cat "$LOG"; exit 1; }
  # Warm-up (connections, allocator, SQLite pages): not measured.
  "$BIN" loadgen wait --port "$PORT" --assistant five --runs 200 --concurrency 2 --max-seconds 120 > /dev/null
  "$BIN" loadgen wait --port "$PORT" --assistant agent --message "what is the weather in paris" \
    --runs 200 --concurrency 2 --max-seconds 120 > /dev/null
  measure "$storage" agent 3 "what is the weather in paris"
  measure "$storage" five 5 "hello"
  cleanup
  PID=""
  rm -rf "$DATA"
done
echo "reports: $OUT"
