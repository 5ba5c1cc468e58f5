#!/usr/bin/env bash
# Evidence store figures on `mailtrail simulate` data: ingest throughput (store alone and with the
# search index), store size against the raw NDJSON, and verify throughput.
# Usage: bench/store.sh [USERS] [DAYS]   (default 1000 users, 30 days; data kept in target/bench-store/)
# The store-only part (dedup + segments + Merkle + checkpoints, no parsing) is measured by
#   cargo bench -p mailtrail-store --bench store
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1000}
days=${2:-30}
target=${CARGO_TARGET_DIR:-target}
work=target/bench-store
mkdir -p "$work"

# MAILTRAIL_BIN=path uses an already built binary.
bin=${MAILTRAIL_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -p mailtrail >/dev/null
  bin="$target/release/mailtrail"
fi

sim="$work/sim-$users-$days"
input="$work/input-$users-$days.ndjson"
if [ ! -s "$input" ]; then
  rm -rf "$sim"
  "$bin" simulate --out "$sim" --users "$users" --days "$days" --quiet
  cat "$sim"/ual/*.ndjson "$sim"/*.ndjson > "$input"
fi
records=$(wc -l < "$input")
size=$(stat -c %s "$input")
echo "input: $input ($records records, $((size / 1024 / 1024)) MiB of NDJSON), $(nproc) cores"

elapsed() { # command... ; prints seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

for mode in no-index index; do
  store="$work/store-$mode"
  rm -rf "$store"
  "$bin" init --store "$store" >/dev/null 2>&1
  flag=(); [ "$mode" = no-index ] && flag=(--no-index)
  secs=$(elapsed "$bin" ingest --store "$store" "${flag[@]}" "$input")
  printf 'ingest (%s): %.2f s, %.0f events/s\n' "$mode" "$secs" "$(echo "$records / $secs" | bc -l)"
done

store="$work/store-no-index"
stored=$(du -sb "$store/segments" "$store/tree" "$store/state.redb" | awk '{s += $1} END {print s}')
printf 'store size: %d bytes = %.1f %% of the NDJSON (segments %d, hashes %d, state %d)\n' \
  "$stored" "$(echo "100 * $stored / $size" | bc -l)" \
  "$(du -sb "$store/segments" | cut -f1)" "$(du -sb "$store/tree" | cut -f1)" "$(stat -c %s "$store/state.redb")"

secs=$(elapsed "$bin" ingest --store "$store" --no-index "$input")
printf 're-ingest, all duplicates: %.2f s, %.0f events/s\n' "$secs" "$(echo "$records / $secs" | bc -l)"

out=$("$bin" verify --store "$store" 2>&1 >/dev/null | tail -1)
echo "verify: $out"
