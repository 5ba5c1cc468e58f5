#!/usr/bin/env bash
# Measures `mailtrail simulate` end to end: records per second, wall and CPU time, peak memory and
# output size, for a given tenant size.
#
#   bench/simulate.sh [USERS] [DAYS] [OUT_DIR]
#
# Defaults: 1000 users, 30 days, a temporary directory (removed afterwards). The figures go to
# docs/benchmarks.md (section "simulate") by hand, with the machine's load noted.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1000}
days=${2:-30}
out=${3:-$(mktemp -d)}
keep=${3:+yes}

cargo build --release --locked -p mailtrail >/dev/null
bin=${CARGO_TARGET_DIR:-target}/release/mailtrail
rm -rf "$out"
/usr/bin/time -v "$bin" simulate --out "$out" --users "$users" --days "$days" --seed 1 2>"$out.time" || { cat "$out.time"; exit 1; }
grep -E "^Wrote" "$out.time"
grep -E "Elapsed|User time|System time|Maximum resident" "$out.time" | sed 's/^\s*//'
echo "output: $(du -sh "$out" | cut -f1)"
rm -f "$out.time"
[ -n "$keep" ] || rm -rf "$out"
