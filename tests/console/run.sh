#!/usr/bin/env bash
# Browser tests of the console: Debian's Chromium, driven by playwright-core (no browser
# download), against build/agentd serving build/ui. Each test file starts its own agentd on a
# free loopback port and stops it by PID. Screenshots go to build/console-screenshots/.
#
#   tests/console/run.sh                              every test file
#   tests/console/run.sh --test-name-pattern=queued   matching tests only (args go to node --test)
#
# Env: AGENTD_BIN (default <repo>/build/agentd), CHROMIUM_BIN (/usr/bin/chromium),
# CONSOLE_SCREENSHOTS (<repo>/build/console-screenshots).
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$DIR/../.." && pwd)"
# Node 20 from scripts/setup.sh when the system's is older (Debian 12 ships 18).
if [ -x "$REPO/.tools/node/bin/node" ]; then export PATH="$REPO/.tools/node/bin:$PATH"; fi
bin="${AGENTD_BIN:-$REPO/build/agentd}"
chromium="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [ ! -x "$bin" ] || [ ! -f "$REPO/build/ui/index.html" ]; then
  echo "console tests: build/agentd and build/ui are needed; run 'make build' first" >&2
  exit 1
fi
if [ ! -x "$chromium" ]; then
  echo "console tests: $chromium not found; run scripts/setup.sh (apt-get install chromium)" >&2
  exit 1
fi
if [ ! -d "$DIR/node_modules/playwright-core" ]; then
  (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$DIR"
node --test --test-concurrency=1 "$@" tests/
