#!/usr/bin/env bash
# agentd under a real memory cgroup (docs/performance.md, "Under a memory cgroup"): creates a
# cgroup with a memory limit, starts `agentd serve` inside it on the default storage (SQLite),
# drives N concurrent streams plus T threads of K turns each at the same time, then reports
# whether the kernel OOM-killed anything, the cgroup's peak usage, agentd's refusals and the
# loadgen reports. Removes the cgroup at the end. Root only; loopback only; bounded counts.
#
#   bench/loadgen/cgroup.sh AGENTD_BIN [OUT]
#   LIMIT_MB (512)  STREAMS (1000)  THREADS (50)  TURNS (500)  DELAY_MS (2000)
set -euo pipefail
AGENTD="${1:?agentd binary}"
OUT="${2:-/tmp/loadgen-cgroup}"
LIMIT_MB="${LIMIT_MB:-512}"
STREAMS="${STREAMS:-1000}"
THREADS="${THREADS:-50}"
TURNS="${TURNS:-500}"
DELAY_MS="${DELAY_MS:-2000}"
PORT="${PORT:-18133}"
mkdir -p "$OUT"
DATA="$(mktemp -d)"

# cgroup v2 when the memory controller is there, else v1's memory hierarchy.
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  CG=/sys/fs/cgroup/agentd-bench-$$
  mkdir "$CG"
  echo $((LIMIT_MB << 20)) > "$CG/memory.max"
  echo 0 > "$CG/memory.swap.max" 2>/dev/null || true
  oom_kills() { sed -n 's/^oom_kill //p' "$CG/memory.events"; }
  peak() { cat "$CG/memory.peak" 2>/dev/null || echo "n/a"; }
else
  CG=/sys/fs/cgroup/memory/agentd-bench-$$
  mkdir "$CG"
  echo $((LIMIT_MB << 20)) > "$CG/memory.limit_in_bytes"
  echo $((LIMIT_MB << 20)) > "$CG/memory.memsw.limit_in_bytes" 2>/dev/null || true
  oom_kills() { sed -n 's/^oom_kill //p' "$CG/memory.oom_control"; }
  peak() { cat "$CG/memory.max_usage_in_bytes"; }
fi
APID=""
cleanup() {
  if [ -n "$APID" ] && kill -0 "$APID" 2>/dev/null; then kill -TERM "$APID"; wait "$APID" || true; fi
  rmdir "$CG" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

# The shell joins the cgroup, then becomes agentd: no other process is charged to it.
sh -c "echo \$\$ > $CG/cgroup.procs && exec $AGENTD serve --port $PORT --data-dir $DATA --log-level warn" \
  > "$OUT/agentd.log" 2>&1 &
APID=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/ok" >/dev/null && break; sleep 0.1; done
curl -sf "127.0.0.1:$PORT/ok" >/dev/null || { echo "agentd did not start" >&2; exit 1; }
echo "cgroup $CG limit ${LIMIT_MB} MiB; agentd pid $APID; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/summary.txt"
curl -s "127.0.0.1:$PORT/metrics" | grep -E '^agentd_(memory_limit|resident_memory)_bytes' | tee -a "$OUT/summary.txt"

LG="$AGENTD loadgen"
pids=()
$LG stream --port "$PORT" --concurrency "$STREAMS" --delay-ms "$DELAY_MS" --rampup-s 2 \
  --server-pid "$APID" --max-seconds 300 --json > "$OUT/streams.json" 2> "$OUT/streams.err" &
pids+=($!)
for i in $(seq "$THREADS"); do
  $LG history --port "$PORT" --assistant echo --turns "$TURNS" --max-seconds 600 --json \
    > "$OUT/history-$i.json" 2> "$OUT/history-$i.err" &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done

alive=no
kill -0 "$APID" 2>/dev/null && curl -sf "127.0.0.1:$PORT/ok" >/dev/null && alive=yes
{
  echo "loadgen processes reporting failed runs: $failed of ${#pids[@]}"
  echo "agentd alive and answering after the load: $alive"
  echo "kernel OOM kills in the cgroup: $(oom_kills)"
  echo "cgroup peak usage: $(peak) bytes"
  curl -s "127.0.0.1:$PORT/metrics" | grep -E '^agentd_(admission_rejections_total|resident_memory_bytes|runs_total)' || true
  echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$OUT/summary.txt"
