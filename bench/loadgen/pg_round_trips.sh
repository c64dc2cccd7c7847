#!/usr/bin/env bash
# PostgreSQL round trips per cluster-mode run (docs/scaling.md, "What each tier carries per run"):
# one agentd in cluster mode (PostgreSQL + Redis), N sequential runs/wait (assistant `agent`,
# one model call) each on its own pre-created thread, agentd_pg_round_trips_total read around
# them, minus the background (lease renewal/adoption polls) over an idle window of the same
# length. Loopback only; one agentd, stopped by pid at exit.
#
#   tests/harness/with-services --pg --redis -- bench/loadgen/pg_round_trips.sh AGENTD_BIN [N]
set -euo pipefail
bin="$1"; n="${2:-20}"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
log=$(mktemp)
"$bin" serve --storage "$AGENTD_TEST_PG_DSN" --bus "$AGENTD_TEST_REDIS_URL" --port "$port" \
  --threads 2 --cluster-lease-ms 1500 --log-level warn >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ok" >/dev/null && break; sleep 0.1; done
rt() { curl -sf "http://127.0.0.1:$port/metrics" | awk '/^agentd_pg_round_trips_total/{print $2}'; }
mk() { curl -sf -X POST "http://127.0.0.1:$port/threads" -H 'content-type: application/json' -d '{}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["thread_id"])'; }
run() { curl -sf -X POST "http://127.0.0.1:$port/threads/$1/runs/wait" -H 'content-type: application/json' \
  -d '{"assistant_id":"agent","input":{"messages":[{"role":"user","content":"hi"}]}}' >/dev/null; }
# Warm-up: every pooled connection prepares its statements on first use.
for i in $(seq 1 5); do t=$(mk); run "$t"; done
threads=(); for i in $(seq 1 "$n"); do threads+=("$(mk)"); done
a=$(rt); s=$(date +%s.%N)
for t in "${threads[@]}"; do run "$t"; done
b=$(rt); e=$(date +%s.%N)
dur=$(python3 -c "print($e-$s)")
sleep "$dur"
c=$(rt)
c1=$(rt); t=$(mk); c2=$(rt)
python3 - "$a" "$b" "$c" "$n" "$dur" "$c1" "$c2" <<'PY'
import sys
a,b,c,n,dur,c1,c2=float(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]),float(sys.argv[5]),float(sys.argv[6]),float(sys.argv[7])
print(f"runs={n} window={dur:.2f}s round_trips={b-a:.0f} idle_same_window={c-b:.0f} "
      f"per_run={(b-a-(c-b))/n:.1f} (raw {(b-a)/n:.1f}) thread_create={c2-c1:.0f}")
PY
