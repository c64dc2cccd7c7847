#!/usr/bin/env bash
# Runs every libFuzzer target of build/fuzz for a bounded time and fails on the first crash.
#
#   tests/fuzz/run.sh                  each target for FUZZ_TIME seconds (default 20)
#   tests/fuzz/run.sh fuzz_sse_parser  only the named targets
#   FUZZ_TIME=300 tests/fuzz/run.sh    longer
#
# Each target starts from its seed corpus (tests/fuzz/corpus/<target>/, read only) plus what
# earlier runs found (build/fuzz/corpus/<target>/, where new inputs go). A crash leaves its
# input at build/fuzz/crashes/<target>-crash-<sha1> with the stack in build/fuzz/logs/<target>.log.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$REPO/build/fuzz"
FUZZ_TIME="${FUZZ_TIME:-20}"
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(fuzz_http_request fuzz_json_body fuzz_sse_parser fuzz_mock_reply)

mkdir -p "$BUILD/crashes" "$BUILD/logs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
command -v llvm-symbolizer >/dev/null || export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14

failed=()
for t in "${targets[@]}"; do
  bin="$BUILD/tests/fuzz/$t"
  [ -x "$bin" ] || { echo "run.sh: $bin is not built (cmake --build --preset fuzz)" >&2; exit 2; }
  mkdir -p "$BUILD/corpus/$t"
  log="$BUILD/logs/$t.log"
  echo "fuzz: $t for ${FUZZ_TIME}s"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a leak or unbounded growth.
  if "$bin" "$BUILD/corpus/$t" "$REPO/tests/fuzz/corpus/$t" \
      -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -artifact_prefix="$BUILD/crashes/$t-" -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -n 2 | sed 's/^/  /'
  else
    echo "fuzz: $t FAILED; the end of $log:" >&2
    tail -n 60 "$log" >&2
    failed+=("$t")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}; reproducers in $BUILD/crashes/ (replay: <binary> <file>)" >&2
  exit 1
fi
