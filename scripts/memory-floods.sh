#!/usr/bin/env bash
# Peak memory (RSS) and wall time of lateral on the hostile inputs of
# docs/speed.md "Memory": a 5 M-packet SYN flood through `flows`, `analyze`
# and `baseline build`, and (with --sshd) the 5 M-line sshd flood of
# scripts/sshd_flood.py through `analyze` and `baseline build`.
#
#   scripts/memory-floods.sh [--sshd] [--packets N] [--lines N] [LATERAL]
#
# --packets sets the SYN flood's size (default 5000000; 500000 is the
# first step of docs/speed.md), --lines the sshd flood's (default
# 5000000; 500000 is the first step). Every command runs under `ulimit -v`
# (MEMORY_KB, default 8000000): a run that passes it fails and says so
# rather than taking the machine's memory.
#
# LATERAL defaults to target/release/lateral (built if missing). Generated
# data goes to a temporary directory under $TMPDIR, removed at the end
# (the SYN flood is 350 MB, the sshd flood 542 MB). Needs GNU time
# (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
sshd=0
packets=5000000
lines=5000000
while [ $# -gt 0 ]; do
  case "$1" in
    --sshd) sshd=1; shift ;;
    --packets) packets=$2; shift 2 ;;
    --lines) lines=$2; shift 2 ;;
    *) break ;;
  esac
done
memory_kb=${MEMORY_KB:-8000000}
LATERAL=${1:-target/release/lateral}
if [ ! -x "$LATERAL" ]; then
  cargo build --release --quiet
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs a command under GNU time; prints peak RSS (MB) and wall time.
measure() {
  local label=$1
  shift
  (ulimit -v "$memory_kb"; /usr/bin/time -f "%M %e" -o "$tmp/time" "$@") >/dev/null 2>"$tmp/err" || {
    echo "$label: failed (exit $?)"
    cat "$tmp/err"
    return 0
  }
  read -r kb secs <"$tmp/time"
  awk -v l="$label" -v kb="$kb" -v s="$secs" \
    'BEGIN { printf "%-28s peak RSS %7.0f MB  wall %7.1f s\n", l, kb / 1000, s }'
}

"$LATERAL" gen --scenario synflood --packets "$packets" -o "$tmp/syn.pcap" >/dev/null
measure "flows (SYN flood)" "$LATERAL" flows -q -o "$tmp/conn.log" "$tmp/syn.pcap"
rm -f "$tmp/conn.log"
measure "analyze (SYN flood)" "$LATERAL" analyze -q --stats --json "$tmp/alerts.json" "$tmp/syn.pcap"
rm -f "$tmp/alerts.json"
measure "baseline build (SYN flood)" "$LATERAL" baseline build -q -o "$tmp/B" "$tmp/syn.pcap"
rm -rf "$tmp/B" "$tmp/syn.pcap"

if [ "$sshd" = 1 ]; then
  python3 scripts/sshd_flood.py "$tmp/sshd.log" "$lines"
  measure "analyze (sshd flood)" "$LATERAL" analyze -q --stats --json "$tmp/alerts.json" "$tmp/sshd.log"
  rm -f "$tmp/alerts.json"
  measure "baseline build (sshd flood)" "$LATERAL" baseline build -q -o "$tmp/B" "$tmp/sshd.log"
fi
