#!/usr/bin/env bash
# Sigma evaluation over Unified Audit Log NDJSON: `mailtrail hunt` beside the rsigma command-line
# tool (the engine mailtrail embeds, run on the raw records), same events, same rules.
#
#   bench/hunt-vs-rsigma.sh                     # a simulated tenant, 300 people, 30 days
#   USERS=1000 DAYS=30 bench/hunt-vs-rsigma.sh  # larger
#   WORK=/big/disk bench/hunt-vs-rsigma.sh      # where the data goes (default: a temporary directory)
#
# Rules: mailtrail's built-in pack plus SigmaHQ's Microsoft 365 and Entra ID rules from
# ../shared/sigma (rules/cloud/{m365,azure}, rules-threat-hunting/cloud/{m365,azure}).
# Runs measured, each printing wall time, events/s and maximum RSS (/usr/bin/time -v):
#   mailtrail hunt, no Sigma     read, normalise, sort, analytics, report: the baseline
#   mailtrail hunt, with Sigma   the same plus the rules; the difference is Sigma's cost
#   rsigma engine eval           parse each line to JSON and evaluate every rule (no routing)
# rsigma is installed with `cargo install rsigma --version 0.23.0 --locked` into
# $CARGO_TARGET_DIR/rsigma-cli (about 8 minutes) unless RSIGMA names a binary.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-300}
DAYS=${DAYS:-30}
WORK=${WORK:-$(mktemp -d)}
SIGMAHQ=${SIGMAHQ:-../shared/sigma}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

cargo build --release -q --locked -p mailtrail
MT=$CARGO_TARGET_DIR/release/mailtrail
RSIGMA=${RSIGMA:-$CARGO_TARGET_DIR/rsigma-cli/bin/rsigma}
if [ ! -x "$RSIGMA" ]; then
  echo "installing rsigma 0.23.0 into $CARGO_TARGET_DIR/rsigma-cli (about 8 minutes)" >&2
  cargo install -q rsigma --version 0.23.0 --locked --root "$CARGO_TARGET_DIR/rsigma-cli"
fi

# Events: one NDJSON file of the simulated tenant's Unified Audit Log.
EVENTS_FILE=$WORK/ual.ndjson
if [ ! -s "$EVENTS_FILE" ]; then
  rm -rf "$WORK/sim"
  "$MT" simulate --out "$WORK/sim" --users "$USERS" --days "$DAYS" --seed 1 -q
  cat "$WORK"/sim/ual/*.ndjson > "$EVENTS_FILE"
fi
EVENTS=$(wc -l < "$EVENTS_FILE")
SIZE=$(stat -c %s "$EVENTS_FILE")

# Rules: one directory with everything (rsigma takes a single path).
RULES=$WORK/rules
rm -rf "$RULES"
mkdir -p "$RULES/builtin" "$RULES/sigmahq"
cp crates/detect/rules/*.yml "$RULES/builtin/"
for d in rules/cloud/m365 rules/cloud/azure rules-threat-hunting/cloud/m365 rules-threat-hunting/cloud/azure; do
  if [ -d "$SIGMAHQ/$d" ]; then
    mkdir -p "$RULES/sigmahq/$d"
    cp -r "$SIGMAHQ/$d/." "$RULES/sigmahq/$d/"
  fi
done
FILES=$(find "$RULES" -name '*.yml' | wc -l)
echo "events: $EVENTS UAL records, $((SIZE / 1000000)) MB ($USERS people, $DAYS days, mailtrail simulate --seed 1)"
echo "rules: $FILES files (built-in pack + SigmaHQ m365/azure); $(nproc) cores; $("$RSIGMA" --version 2>/dev/null | head -1)"
"$MT" rules check "$RULES/sigmahq" | tail -1 | sed 's/^/SigmaHQ part: /'
echo

# name, stdout file, command...: wall seconds, events/s, max RSS.
measure() {
  local name=$1 out=$2; shift 2
  local log=$WORK/time.log
  /usr/bin/time -v -o "$log" "$@" >"$out" 2>"$WORK/stderr.log" || true
  python3 - "$name" "$EVENTS" "$log" <<'PY'
import re, sys
name, events, log = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", log)
h, m, s = (float(x) if x else 0.0 for x in wall.groups())
secs = h * 3600 + m * 60 + s
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", log).group(1))
cpu = re.search(r"Percent of CPU this job got: (\d+)%", log).group(1)
print(f"{name:<34} {secs:7.2f} s  {events / secs:>10,.0f} events/s  max RSS {rss / 1024:6.0f} MiB  CPU {cpu}%")
PY
}

cat "$EVENTS_FILE" > /dev/null # warm the page cache
measure "mailtrail hunt (no Sigma)" /dev/null "$MT" hunt -q --no-builtin-rules --format json -o /dev/null "$EVENTS_FILE"
measure "mailtrail hunt (Sigma)" /dev/null "$MT" hunt -q --no-builtin-rules --sigma "$RULES" --format json -o "$WORK/hunt.json" "$EVENTS_FILE"
measure "rsigma engine eval" "$WORK/rsigma.ndjson" "$RSIGMA" engine eval --rules "$RULES" --event "@$EVENTS_FILE"

# What each found: rsigma reads the raw records, so rules that address {Name, Value} lists by name
# (Parameters.ForwardTo) or use the eventSource/eventName/status spellings do not match there.
echo
python3 - "$WORK/hunt.json" "$WORK/rsigma.ndjson" <<'PY'
import collections, json, sys
hunt = json.load(open(sys.argv[1]))
ours = collections.Counter(f["title"] for f in hunt["findings"] if f["detector"] == "sigma")
theirs = collections.Counter()
for line in open(sys.argv[2]):
    theirs[json.loads(line).get("rule_title", "?")] += 1
print(f"mailtrail: {sum(ours.values())} Sigma findings (matches grouped by the hunt) from {len(ours)} rules")
print(f"rsigma:    {sum(theirs.values())} matches from {len(theirs)} rules")
for title in sorted(set(ours) | set(theirs)):
    print(f"  {ours.get(title, 0):>6} {theirs.get(title, 0):>6}  {title}")
PY
