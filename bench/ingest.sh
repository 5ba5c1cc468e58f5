#!/usr/bin/env bash
# Ingest throughput of several builds side by side: each build ingests the same input into a fresh
# store, in turn, ROUNDS times. A machine's speed drifts over an hour, so only builds measured in
# the same minutes compare; this is how docs/benchmarks.md measures ingest.
#
# Usage: bench/ingest.sh [BIN...]   (default: target/release/mailtrail, built if missing)
#   USERS=300 DAYS=30 SEED=1   the tenant `mailtrail simulate` writes (its UAL is the input)
#   INPUTS="A B"               ingest these paths instead, one `ingest` each into the same store
#   ROUNDS=3                   rounds of all builds
# Data and stores are kept in target/bench-ingest/.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${USERS:-300}
days=${DAYS:-30}
seed=${SEED:-1}
rounds=${ROUNDS:-3}
work=target/bench-ingest
mkdir -p "$work"

bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  cargo build --release --locked -p mailtrail >/dev/null
  bins=("${CARGO_TARGET_DIR:-target}/release/mailtrail")
fi

if [ -n "${INPUTS:-}" ]; then
  read -r -a inputs <<<"$INPUTS"
else
  sim="$work/sim-$users-$days-$seed"
  if [ ! -d "$sim/ual" ]; then
    rm -rf "$sim"
    "${bins[0]}" simulate --out "$sim" --users "$users" --days "$days" --seed "$seed" --quiet
  fi
  inputs=("$sim/ual")
fi
for input in "${inputs[@]}"; do
  echo "input: $input: $(find "$input" -type f -exec cat {} + | wc -l) records, $(du -sb "$input" | cut -f1) bytes"
done
echo "$(nproc) cores"

# One ingest: wall and CPU seconds, peak memory (with GNU time installed), new records per second.
ingest() { # BIN STORE INPUT
  local summary times new
  times="$work/times"
  if [ -x /usr/bin/time ]; then
    summary=$(/usr/bin/time -o "$times" -f '%e %U %S %M' "$1" ingest -q --store "$2" "$3" 2>/dev/null || true)
  else
    summary=$( { TIMEFORMAT='%R %U %S -'; time "$1" ingest -q --store "$2" "$3" 2>/dev/null || true; } 2>"$times")
  fi
  # GNU time puts "Command exited with non-zero status" first when ingest rejected records.
  read -r wall user sys rss < <(tail -1 "$times")
  new=$(grep -o '[0-9]* new' <<<"$summary" | cut -d' ' -f1)
  printf '%s %s: %.2f s: %.0f events/s; %.1f s of CPU; peak %s KB\n' "$1" "$(basename "$3")" \
    "$wall" "$(echo "${new:-0} / $wall" | bc -l)" "$(echo "$user + $sys" | bc -l)" "$rss"
}

for round in $(seq "$rounds"); do
  echo "## round $round"
  for bin in "${bins[@]}"; do
    store="$work/store"
    rm -rf "$store"
    "$bin" init --store "$store" -q >/dev/null 2>&1
    for input in "${inputs[@]}"; do
      ingest "$bin" "$store" "$input"
    done
    echo "  store: $(du -sb "$store" | cut -f1) bytes, index $(du -sb "$store/index" | cut -f1)"
  done
done
rm -rf "$work/store"
