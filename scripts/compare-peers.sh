#!/usr/bin/env bash
# Runs lateral and its peers over the same capture and prints wall time,
# throughput, peak memory and lateral's speed ratio to each.
#
#   scripts/compare-peers.sh [CAPTURE]
#
# Without CAPTURE it generates the benchmark capture (lateral gen --scenario
# bulk: ~1.8 GB, 2.7 million packets, 58,000 conversations) in $TMPDIR.
# Peers that are not installed are listed as such (Debian: tshark, argus-server, nfdump).
# Each tool runs 3 times on a warm page cache; the best run is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
LATERAL=target/release/lateral
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cap=${1:-}
if [ -z "$cap" ]; then
  cap=$tmp/bench.pcap
  "$LATERAL" gen --scenario bulk -o "$cap"
fi
bytes=$(stat -c %s "$cap")
cat "$cap" > /dev/null   # warm the page cache
packets=$("$LATERAL" flows --quiet --stats "$cap" 2>&1 >/dev/null | awk '/^  packets/ {print $2}')

best() { # label, command...: prints "seconds rss_kb" of the fastest of 3 runs
  local b="" r=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" > /dev/null 2>"$tmp/err" || true
    read -r s m < "$tmp/time"
    if [ -z "$b" ] || awk "BEGIN{exit !($s < $b)}"; then b=$s; r=$m; fi
  done
  echo "$b $r"
}

printf '%s: %s bytes, %s packets\n\n' "$cap" "$bytes" "$packets"
printf '%-44s %8s %10s %12s %9s %12s\n' tool seconds "MB/s" "packets/s" "RSS MB" "lateral is"
row() { # label seconds rss
  local label=$1 s=$2 m=$3
  awk -v l="$label" -v s="$s" -v m="$m" -v b="$bytes" -v p="$packets" -v ls="${LAT_S:-$2}" 'BEGIN{
    if (s <= 0) s = 0.001;
    printf "%-44s %8.2f %10.0f %12.0f %9.0f %11.1fx\n", l, s, b/1e6/s, p/s, m/1024, s/ls }'
}
read -r LAT_S LAT_M <<< "$(best "$LATERAL" flows --format jsonl --quiet "$cap")"
row "lateral flows --format jsonl" "$LAT_S" "$LAT_M"
read -r s m <<< "$(best cat "$cap")"; row "cat" "$s" "$m"
if command -v tshark >/dev/null; then
  read -r s m <<< "$(best tshark -n -q -z conv,tcp -z conv,udp -r "$cap")"; row "tshark -z conv,tcp -z conv,udp" "$s" "$m"
else echo "tshark: not installed"; fi
if command -v argus >/dev/null; then
  read -r s m <<< "$(best argus -r "$cap" -w "$tmp/argus.out")"; row "argus -r -w" "$s" "$m"
else echo "argus: not installed"; fi
if command -v nfpcapd >/dev/null; then
  mkdir -p "$tmp/nf"
  read -r s m <<< "$(best nfpcapd -r "$cap" -w "$tmp/nf")"; row "nfpcapd -r -w" "$s" "$m"
else echo "nfpcapd: not installed"; fi
