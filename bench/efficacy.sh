#!/usr/bin/env bash
# Detection efficacy on simulated tenants: simulate, hunt the exports, score against the labels.
# Prints one markdown row per tenant and one per attack, as in docs/detections.md.
#
#   bench/efficacy.sh [MAILTRAIL] [WORKDIR]
#
# MAILTRAIL defaults to target/release/mailtrail (built if missing); WORKDIR to a temporary
# directory, removed afterwards. Tenants: users × days × seed, all seven attacks, plus one without.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/mailtrail}
[ -x "$bin" ] || cargo build --release --locked
work=${2:-$(mktemp -d)}
[ -n "${2:-}" ] || trap 'rm -rf "$work"' EXIT

tenants=("40 21 9" "40 21 10" "40 21 11" "60 30 2023" "100 30 7" "200 30 1" "200 30 2" "200 30 3" "1000 30 42" "300 30 99 none")

echo "| tenant (users × days, seed) | records | attacks detected | false-positive incidents | per 1,000 user-days |"
echo "| --- | ---: | ---: | ---: | ---: |"
rows=()
for t in "${tenants[@]}"; do
  read -r users days seed scenarios <<<"$t"
  scenarios=${scenarios:-all}
  dir="$work/t-$users-$days-$seed"
  "$bin" -q simulate --users "$users" --days "$days" --seed "$seed" --scenarios "$scenarios" --out "$dir" >/dev/null 2>&1
  "$bin" -q hunt "$dir/ual" --signins "$dir/signins.ndjson" "$dir/directory_audit.ndjson" \
    --format json -o "$dir/hunt.json" || [ $? -eq 1 ]
  "$bin" -q eval --format json --truth "$dir/labels.jsonl" "$dir/hunt.json" >"$dir/eval.json" || true
  python3 - "$dir" "$users" "$days" "$seed" "$scenarios" <<'PY'
import json, sys
d, users, days, seed, scenarios = sys.argv[1:]
e = json.load(open(f"{d}/eval.json"))
h = json.load(open(f"{d}/hunt.json"))
a = e["attacks"]
det = sum(1 for x in a if x["detected"])
rate = e.get("false_positives_per_1000_user_days")
label = f"{users} × {days}, seed {seed}" + (" (no attacks)" if scenarios == "none" else "")
print(f"| {label} | {h['coverage']['records']:,} | {det} of {len(a)} | {len(e['false_positive_incidents'])} | {rate:.2f} |")
with open(f"{d}/attacks.txt", "w") as f:
    for x in a:
        f.write(f"{label}\t{x['scenario']}\t{x['detected']}\t{x['evidence_recall']:.2f}\t{x['evidence_precision']:.2f}\t{', '.join(x['detectors'])}\n")
PY
done

echo
echo "| attack | detected | evidence recall (min – max) | evidence precision (min – max) | found by |"
echo "| --- | ---: | ---: | ---: | --- |"
cat "$work"/t-*/attacks.txt | python3 -c '
import sys, collections
by = collections.OrderedDict()
for line in sys.stdin:
    label, sc, det, rec, prec, dets = line.rstrip("\n").split("\t")
    by.setdefault(sc, []).append((det == "True", float(rec), float(prec), dets))
for sc, xs in by.items():
    det = sum(x[0] for x in xs)
    recs = [x[1] for x in xs]; precs = [x[2] for x in xs]
    found = ", ".join(sorted({d for x in xs for d in x[3].split(", ") if d}))
    print(f"| {sc} | {det} of {len(xs)} | {min(recs):.0%} – {max(recs):.0%} | {min(precs):.0%} – {max(precs):.0%} | {found} |")
'
