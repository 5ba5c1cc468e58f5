#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after the other, each seeded with the
# reader's fixtures where they are its kind of input. Stops at the first crash, which libFuzzer saves
# under artifacts/<target>/.
#
#   fuzz/run-all.sh          # 60 s per target
#   fuzz/run-all.sh 600      # ten minutes per target
#   FUZZ_RUNS=100000 fuzz/run-all.sh  # 100,000 inputs per target from a fixed seed, as CI
#                                     # runs it
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP=1 lets a stable toolchain accept
# the sanitizer flags it passes.
set -euo pipefail
cd "$(dirname "$0")"
EACH=${1:-60}
export RUSTC_BOOTSTRAP=1
FIXTURES=../crates/formats/tests/data
mkdir -p target/logs
cargo fuzz build -O 2>&1 | tail -1
# Store files to start the store targets from: a store of the fixtures, when a mailtrail binary
# is built (`cargo build`, or the test run before this).
MAILTRAIL=${MAILTRAIL:-../target/debug/mailtrail}
if [ -x "$MAILTRAIL" ]; then
  seed=$(mktemp -d)
  "$MAILTRAIL" init -q --store "$seed/s" >/dev/null 2>&1
  "$MAILTRAIL" ingest -q --no-index --store "$seed/s" "$FIXTURES" >/dev/null 2>&1 || true
  mkdir -p corpus/store_segment corpus/store_id_run
  cp "$seed"/s/segments/*.seg corpus/store_segment/ 2>/dev/null || true
  cp "$seed"/s/ids/*.run corpus/store_id_run/ 2>/dev/null || true
  rm -rf "$seed"
fi
for t in $(cargo fuzz list); do
  mkdir -p "corpus/$t"
  case $t in
    csv) cp "$FIXTURES"/*.csv "corpus/$t/" ;;
    read | json_splitter | record | normalize_* | sigma_record) cp "$FIXTURES"/*.json "$FIXTURES"/*.ndjson "corpus/$t/" ;;
  esac
  log=target/logs/$t.log
  if [ -n "${FUZZ_RUNS:-}" ]; then
    limit=(-runs="$FUZZ_RUNS" -seed=1)
  else
    limit=(-max_total_time="$EACH")
  fi
  if ! cargo fuzz run -O "$t" "corpus/$t" -- "${limit[@]}" -rss_limit_mb=2048 >"$log" 2>&1; then
    echo "$t: FAILED after $(grep -o 'Done [0-9]* runs' "$log" || echo '?'); see $log and artifacts/$t/"
    exit 1
  fi
  echo "$t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -1), corpus $(ls "corpus/$t" | wc -l) inputs"
done
