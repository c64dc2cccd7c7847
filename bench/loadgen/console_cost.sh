#!/usr/bin/env bash
# The console's cost on the server (docs/performance.md, "The console's cost"): `agentd loadgen
# wait` on the default storage (SQLite), alternately without and with the operations view open
# in headless Chromium (bench/loadgen/hold_console.mjs), ROUNDS times each; every pass gets a
# fresh agentd and data directory (a growing database would favour the earlier passes). Reports
# runs/s and the server's CPU per run for every pass. Loopback only.
#
#   bench/loadgen/console_cost.sh AGENTD_BIN [OUT]
#   RUNS (5000)  CONCURRENCY (16)  ROUNDS (3)  PAGES (1)
set -euo pipefail
AGENTD="${1:?agentd binary}"
OUT="${2:-/tmp/loadgen-console-cost}"
RUNS="${RUNS:-5000}"
CONCURRENCY="${CONCURRENCY:-16}"
ROUNDS="${ROUNDS:-3}"
PAGES="${PAGES:-1}"
PORT="${PORT:-18143}"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
if [ -x "$REPO/.tools/node/bin/node" ]; then export PATH="$REPO/.tools/node/bin:$PATH"; fi
mkdir -p "$OUT"
DATA="$(mktemp -d)"
APID=""
HOLD=""
cleanup() {
  if [ -n "$HOLD" ]; then kill -TERM "$HOLD" 2>/dev/null || true; wait "$HOLD" 2>/dev/null || true; fi
  if [ -n "$APID" ]; then kill -TERM "$APID" 2>/dev/null || true; wait "$APID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

start_agentd() {
  rm -rf "$DATA" && mkdir -p "$DATA"
  "$AGENTD" serve --port "$PORT" --data-dir "$DATA" --log-level warn >> "$OUT/agentd.log" 2>&1 &
  APID=$!
  for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/ok" >/dev/null && break; sleep 0.1; done
  # Warm-up: the first runs create the tables' pages and the caches.
  "$AGENTD" loadgen wait --port "$PORT" --assistant echo --runs 500 --concurrency "$CONCURRENCY" --json > /dev/null
}
stop_agentd() { kill -TERM "$APID"; wait "$APID" || true; APID=""; }

# CPU seconds used so far by every Chromium process (the dashboard shares the machine's cores
# with agentd and the load generator).
chromium_cpu() {
  python3 - <<'PY'
import glob, os
ticks = 0
for stat in glob.glob("/proc/[0-9]*/stat"):
    try:
        text = open(stat).read()
    except OSError:
        continue  # exited meanwhile
    comm = text[text.index("(") + 1:text.rindex(")")]
    if comm.startswith("chrom"):
        fields = text[text.rindex(")") + 2:].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
print(f"{ticks / os.sysconf('SC_CLK_TCK'):.2f}")
PY
}

pass() {  # $1 = name
  echo "$1 start load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/loadavg.txt"
  local before; before=$(chromium_cpu)
  "$AGENTD" loadgen wait --port "$PORT" --assistant echo --runs "$RUNS" --concurrency "$CONCURRENCY" \
    --server-pid "$APID" --max-seconds 120 --json > "$OUT/$1.json"
  local browser; browser=$(python3 -c "print(f'{max(0.0, $(chromium_cpu) - $before):.2f}')")
  python3 - "$OUT/$1.json" "$1" "$browser" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
r = json.load(open(sys.argv[1]))
runs = r["counters"].get("completed", 0)
cpu = r["server"]["cpu_seconds"]
errors = sum(r["errors"].values()) if r["errors"] else 0
print(f"{sys.argv[2]:<14} {runs / r['elapsed_s']:8.0f} runs/s  server CPU {1000 * cpu / max(runs, 1):.3f} ms/run  "
      f"browser CPU {sys.argv[3]} s in {r['elapsed_s']:.1f} s  errors {errors}")
PY
}

for round in $(seq "$ROUNDS"); do
  start_agentd
  pass "plain-$round"
  stop_agentd
  start_agentd
  node "$HERE/hold_console.mjs" "http://127.0.0.1:$PORT" "$PAGES" > "$OUT/hold.log" 2>&1 &
  HOLD=$!
  for _ in $(seq 300); do grep -q live "$OUT/hold.log" 2>/dev/null && break; sleep 0.1; done
  grep -q live "$OUT/hold.log" || { echo "the console did not go live" >&2; cat "$OUT/hold.log" >&2; exit 1; }
  pass "console-$round"
  kill -TERM "$HOLD"; wait "$HOLD" || true; HOLD=""
  stop_agentd
done
