#!/usr/bin/env bash
# Run the e2e suite against a freshly started agentd, or against a server that is already up.
#
#   tests/e2e/run.sh                          start build/agentd (memory storage), test, stop it
#   E2E_STORAGE=sqlite tests/e2e/run.sh       same with SQLite in a throwaway data dir
#   AGENTD_URL=http://127.0.0.1:12024 tests/e2e/run.sh   test a running server (e.g. shared/peer)
#
# Env: AGENTD_BIN (default <repo>/build/agentd), E2E_STORAGE (memory|sqlite), E2E_START_TIMEOUT_S (20).
# Extra arguments go to `node --test` (e.g. --test-name-pattern=threads).
set -euo pipefail
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$E2E_DIR/../.." && pwd)"
# Node 20 from scripts/setup.sh when the system's is older (Debian 12 ships 18).
if [ -x "$REPO/.tools/node/bin/node" ]; then export PATH="$REPO/.tools/node/bin:$PATH"; fi
AGENTD_BIN="${AGENTD_BIN:-$REPO/build/agentd}"
E2E_STORAGE="${E2E_STORAGE:-memory}"
E2E_START_TIMEOUT_S="${E2E_START_TIMEOUT_S:-20}"

if [ ! -d "$E2E_DIR/node_modules/@langchain/langgraph-sdk" ] ||
   [ ! -d "$E2E_DIR/node_modules/@modelcontextprotocol/sdk" ] ||
   [ ! -d "$E2E_DIR/node_modules/@a2a-js/sdk" ]; then
  (cd "$E2E_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

child_pid=""
work_dir=""
cleanup() {
  local rc=$?
  if [ -n "$child_pid" ] && kill -0 "$child_pid" 2>/dev/null; then
    kill -TERM "$child_pid" 2>/dev/null || true
    # Bounded wait for a graceful stop, then force it.
    for _ in $(seq 1 50); do
      kill -0 "$child_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$child_pid" 2>/dev/null || true
    wait "$child_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -n "$work_dir" ] && [ -s "$work_dir/agentd.log" ]; then
    echo "--- last lines of the agentd log ($work_dir/agentd.log) ---" >&2
    tail -n 40 "$work_dir/agentd.log" >&2
  fi
  if [ -n "$work_dir" ] && [ "$rc" -eq 0 ]; then rm -rf "$work_dir"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${AGENTD_URL:-}" ]; then
  if [ ! -x "$AGENTD_BIN" ]; then
    echo "e2e: $AGENTD_BIN not found; run 'make build' first" >&2
    exit 1
  fi
  work_dir="$(mktemp -d "${TMPDIR:-/tmp}/agentd-e2e.XXXXXX")"
  # Ask the kernel for a free loopback port, then hand it to agentd. Another process could take
  # it in between; the readiness wait below then fails loudly rather than testing something else.
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  args=(serve --port "$port")
  case "$E2E_STORAGE" in
    memory) args+=(--storage memory) ;;
    sqlite) args+=(--storage sqlite --data-dir "$work_dir/data") ;;
    *) echo "e2e: E2E_STORAGE must be memory or sqlite, got '$E2E_STORAGE'" >&2; exit 1 ;;
  esac
  echo "e2e: starting $AGENTD_BIN ${args[*]}"
  # Hermetic: the server sees only the flags above and its defaults, not a developer's
  # AGENTD_* settings or AGENTD_CONFIG file.
  unset_agentd=()
  for name in $(compgen -e); do
    case "$name" in AGENTD_*) unset_agentd+=(-u "$name") ;; esac
  done
  (cd "$work_dir" && exec env "${unset_agentd[@]}" "$AGENTD_BIN" "${args[@]}") >"$work_dir/agentd.log" 2>&1 </dev/null &
  child_pid=$!
  export AGENTD_URL="http://127.0.0.1:$port"

  deadline=$(( $(date +%s) + E2E_START_TIMEOUT_S ))
  until curl -sf -o /dev/null --max-time 1 "$AGENTD_URL/ok"; do
    if ! kill -0 "$child_pid" 2>/dev/null; then
      echo "e2e: agentd exited before it answered GET /ok" >&2
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "e2e: agentd did not answer GET /ok within ${E2E_START_TIMEOUT_S}s" >&2
      exit 1
    fi
    sleep 0.1
  done
fi

echo "e2e: testing $AGENTD_URL"
cd "$E2E_DIR"
node --test "$@" tests/
