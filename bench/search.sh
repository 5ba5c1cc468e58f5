#!/usr/bin/env bash
# Search benchmarks: index size against the raw NDJSON, indexing rate, and query latency, beside
# grep and jq answering the same questions over the raw NDJSON.
#
#   bench/search.sh                      # a simulated tenant, 2,000 people, 30 days
#   USERS=20000 DAYS=30 bench/search.sh  # larger
#   WORK=/big/disk bench/search.sh       # where the data goes (default: a temporary directory)
#
# Figures go to stdout as Markdown-ready lines; docs/benchmarks.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-2000}
DAYS=${DAYS:-30}
RUNS=${RUNS:-21}
WORK=${WORK:-$(mktemp -d)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

cargo build --release -q -p mailtrail
cargo build --release -q -p mailtrail-index --examples
MT=$CARGO_TARGET_DIR/release/mailtrail
EX=$CARGO_TARGET_DIR/release/examples
STORE=$WORK/store

ms() { date +%s%N; }
elapsed_ms() { echo $(( ($(ms) - $1) / 1000000 )); }
# p50 of a command's wall time over RUNS runs, in milliseconds.
p50() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local t; t=$(ms); "$@" >/dev/null 2>&1; times+=("$(elapsed_ms "$t")")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}
once() { local t; t=$(ms); "$@" >/dev/null 2>&1 || true; elapsed_ms "$t"; }

echo "## Data: $USERS people, $DAYS days (mailtrail simulate --seed 1), in $WORK"
rm -rf "$WORK/sim" "$STORE"
$MT simulate --out "$WORK/sim" --users "$USERS" --days "$DAYS" --seed 1 -q
INPUTS=("$WORK"/sim/ual/*.ndjson)
RAW=$(cat "${INPUTS[@]}" | wc -c)
EVENTS=$(cat "${INPUTS[@]}" | wc -l)
echo "raw UAL NDJSON: $EVENTS events, $((RAW / 1000000)) MB"

$MT init --store "$STORE" -q
t=$(ms); $MT ingest --store "$STORE" -q "${INPUTS[@]}"; INGEST=$(elapsed_ms "$t")
INDEX=$(du -sb "$STORE/index" | cut -f1)
TOTAL=$(du -sb "$STORE" | cut -f1)
echo "ingest (store + index): $INGEST ms, $(( EVENTS * 1000 / (INGEST + 1) )) events/s"
echo "index: $((INDEX / 1000000)) MB = $(( INDEX * 1000 / RAW ))‰ of raw, $(( INDEX / EVENTS )) bytes/event"
echo "whole store (segments + state + index): $((TOTAL / 1000000)) MB = $(( TOTAL * 1000 / RAW ))‰ of raw"

t=$(ms); $MT reindex --store "$STORE" -q; REINDEX=$(elapsed_ms "$t")
echo "reindex (read segments, normalise, index, commit): $REINDEX ms, $(( EVENTS * 1000 / (REINDEX + 1) )) events/s"
echo "index alone, in-process:"
"$EX/bench_indexing" 1000000 "${INPUTS[@]}"

# The questions: a busy mail reader, a week, the most common client address block.
USER=$($MT stats --store "$STORE" --by user --top 1 --format csv op:MailItemsAccessed 2>/dev/null | sed -n 2p | cut -d, -f1)
FROM=$(head -c 10 < <(grep -o -m1 '"CreationTime":"[0-9-]*' "${INPUTS[0]}" | cut -d'"' -f4))
TO=$(date -u -d "$FROM + 7 days" +%F)
LAST=$(date -u -d "$TO - 1 day" +%F)
IP=$($MT stats --store "$STORE" --by ip --top 1 --format csv 2>/dev/null | sed -n 2p | cut -d, -f1)
BLOCK="${IP%.*}.0/24"
Q_USER="user:$USER op:MailItemsAccessed time:[$FROM TO $LAST]"
Q_TEXT="outlook"
Q_CIDR="ip:$BLOCK -op:MailItemsAccessed"
echo
echo "## Queries (p50 over $RUNS runs)"
echo "in-process (bench_queries; index only, 50 newest hits):"
# Fields kept only as columns are scanned: alone, beside a rare term and beside a common one.
"$EX/bench_queries" "$STORE" "$RUNS" "$Q_USER" "$Q_TEXT" "$Q_CIDR" "op:MailItemsAccessed access_type:Bind" \
  "logon_type:delegate" "logon_type:delegate user:$USER" "-workload:exchange" "*"
echo
echo "command line (mailtrail search … --limit 50 --format csv: process start, index, 50 records read from the store):"
echo "  user+op+7d: $(p50 $MT search --store "$STORE" --limit 50 --format csv "$Q_USER") ms"
echo "  free text:  $(p50 $MT search --store "$STORE" --limit 50 --format csv "$Q_TEXT") ms"
echo "  CIDR:       $(p50 $MT search --store "$STORE" --limit 50 --format csv "$Q_CIDR") ms"
echo "  stats --by client_app --interval 1d op:MailItemsAccessed: $(p50 $MT stats --store "$STORE" --by client_app --interval 1d --format csv op:MailItemsAccessed) ms"
echo
echo "peers over the raw NDJSON (one run each, warm page cache):"
cat "${INPUTS[@]}" >/dev/null
echo "  grep user+op+7d: $(once bash -c "grep -h -F '\"UserId\":\"$USER\"' ${INPUTS[*]} | grep -F '\"Operation\":\"MailItemsAccessed\"' | awk -F'\"CreationTime\":\"' '{ d = substr(\$2, 1, 10); if (d >= \"$FROM\" && d < \"$TO\") n++ } END { print n }'") ms"
echo "  grep -i free text: $(once bash -c "grep -h -i -c outlook ${INPUTS[*]}") ms"
if command -v jq >/dev/null; then
  echo "  jq user+op+7d: $(once bash -c "jq -c --arg u '$USER' --arg f '$FROM' --arg t '$TO' 'select(.UserId == \$u and .Operation == \"MailItemsAccessed\" and .CreationTime >= \$f and .CreationTime < \$t)' ${INPUTS[*]} | wc -l") ms"
else
  echo "  jq: not installed (apt-get install jq)"
fi
