#!/usr/bin/env bash
# Parse + normalise throughput of `mailtrail parse` on UAL NDJSON, beside peers on the same file:
#   jq -c . FILE        parses and re-prints every record (no normalisation)
#   python3 json.loads  parses every line into Python objects (no normalisation)
# Usage: bench/parse.sh [RECORDS]   (default 1,000,000; the file is kept in target/bench-parse/)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
target=${CARGO_TARGET_DIR:-target}
work=target/bench-parse
mkdir -p "$work"
file="$work/ual-$records.ndjson"

cargo build --release --locked -p mailtrail >/dev/null
bin="$target/release/mailtrail"

if [ ! -s "$file" ]; then
  # The fixture records, cycled, each copy with its own Id.
  python3 - "$records" "$file" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
d = "crates/formats/tests/data/"
t = [l.strip() for l in open(d + "ual.ndjson") if l.strip()]
t += [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in json.load(open(d + "ual-management-api.json"))]
with open(out, "w") as f:
    for i in range(n):
        s = t[i % len(t)]
        at = s.index('"Id":"') + 6
        f.write(s[:at] + format(i, "08x") + s[at + 8:] + "\n")
PY
fi
size=$(stat -c %s "$file")
echo "file: $file ($records records, $((size / 1024 / 1024)) MiB), $(nproc) cores"

run() { # name, command...
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); n=int(sys.argv[3]); print(f'{sys.argv[4]:<34} {s:7.2f} s  {n/s:>10,.0f} records/s  {int(sys.argv[5])/s/2**20:7.1f} MiB/s')" "$start" "$end" "$records" "$name" "$size"
}

run "mailtrail parse --stats" "$bin" parse --stats "$file"
run "mailtrail parse (jsonl out)" "$bin" parse "$file"
if command -v jq >/dev/null; then run "jq -c ." jq -c . "$file"; fi
run "python3 json.loads per line" python3 -c 'import json,sys
for line in open(sys.argv[1], "rb"): json.loads(line)' "$file"
