#!/usr/bin/env bash
# The cluster e2e suite: the official JS SDK against three build/agentd instances in cluster
# mode (PostgreSQL storage + Redis bus), which the tests start, kill -9 and stop by PID.
#
#   tests/e2e/cluster/run.sh                  PostgreSQL + Redis from tests/harness/with-services
#   tests/e2e/cluster/run.sh --test-name-pattern=failover    extra args go to `node --test`
#
# With AGENTD_TEST_PG_DSN and AGENTD_TEST_REDIS_URL already set (inside with-services), it uses
# those. Env: AGENTD_BIN (default <repo>/build/agentd).
set -euo pipefail
CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$(cd "$CLUSTER_DIR/.." && pwd)"
REPO="$(cd "$E2E_DIR/../.." && pwd)"
# Node 20 from scripts/setup.sh when the system's is older (Debian 12 ships 18).
if [ -x "$REPO/.tools/node/bin/node" ]; then export PATH="$REPO/.tools/node/bin:$PATH"; fi
export AGENTD_BIN="${AGENTD_BIN:-$REPO/build/agentd}"

if [ ! -x "$AGENTD_BIN" ]; then
  echo "e2e cluster: $AGENTD_BIN not found; run 'make build' first" >&2
  exit 1
fi
if [ -z "${AGENTD_TEST_PG_DSN:-}" ] || [ -z "${AGENTD_TEST_REDIS_URL:-}" ]; then
  exec "$REPO/tests/harness/with-services" --pg --redis -- bash "$CLUSTER_DIR/run.sh" "$@"
fi
if [ ! -d "$E2E_DIR/node_modules/@langchain/langgraph-sdk" ]; then
  (cd "$E2E_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "e2e cluster: $AGENTD_BIN on $AGENTD_TEST_PG_DSN + $AGENTD_TEST_REDIS_URL"
cd "$E2E_DIR"
# One file at a time: each starts its own three instances.
node --test --test-concurrency=1 "$@" cluster/
