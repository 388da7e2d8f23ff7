#!/usr/bin/env bash
# Fills fuzz/corpus/TARGET/ (git-ignored) with seed inputs for every fuzz
# target: the small hand-written files in fuzz/seeds/, the head of the
# matching files in testdata/, and small files of the shared corpus
# (../shared/corpus or $LATERAL_CORPUS) when it is there. Each seed is cut
# to 64 KiB so the fuzzer's inputs stay small. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
root=..
shared=${LATERAL_CORPUS:-$root/../shared/corpus}
max=65536

# put TARGET FILE [SKIP]: copies the first 64 KiB of FILE (after SKIP bytes)
# into TARGET's corpus under a name made from its path.
put() {
  local target=$1 file=$2 skip=${3:-0}
  [ -f "$file" ] || return 0
  mkdir -p "corpus/$target"
  local name
  name=$(printf '%s' "$file" | tr -c 'A-Za-z0-9._-' '_' | tail -c 100)
  # tail stops early on a closed pipe; that is expected here.
  (tail -c +"$((skip + 1))" "$file" || true) | head -c "$max" > "corpus/$target/$name"
}

# put_each TARGET [SKIP] < list of files: at most 8 of them. The lister may
# see a closed pipe or a missing folder; callers add `|| true` for that.
put_each() {
  local target=$1 skip=${2:-0} n=0 f
  while IFS= read -r f && [ "$n" -lt 8 ]; do
    put "$target" "$f" "$skip"
    n=$((n + 1))
  done
}

for dir in seeds/*/; do
  t=$(basename "$dir")
  for f in "$dir"*; do put "$t" "$f"; done
done

put capture "$root/testdata/demo.pcap"
ls "$root"/testdata/diet/logs/*.auth.log 2>/dev/null | put_each syslog || true
ls "$root"/testdata/diet/logs/*.jsonl 2>/dev/null | put_each winjson || true

if [ -d "$shared" ]; then
  find "$shared/pcap" -type f -size -16k 2>/dev/null | sort | put_each capture || true
  # The evtx target puts the 8-byte file signature in front itself.
  find "$shared/logs/evtx" -type f -name '*.evtx' -size -200k 2>/dev/null | sort | put_each evtx 8 || true
  find "$shared/logs/windows-json" -type f -size -200k 2>/dev/null | sort | put_each winjson || true
  find "$shared/logs/zeek" -type f -name '*.log' 2>/dev/null | sort | put_each zeek_tsv || true
  # The lateral-movement captures hold SMB, DCE-RPC and NTLM messages: the
  # analyzer targets find them between the bytes they split on, and the
  # capture target runs them through the analyzers whole.
  for t in analyzer_smb analyzer_dcerpc analyzer_ntlm analyzer_stream; do
    find "$shared/pcap/lateral" -type f -name '*.*cap*' 2>/dev/null | sort | put_each "$t" 24 || true
  done
  find "$shared/pcap/lateral" -type f -name '*.*cap*' 2>/dev/null | sort | put_each capture || true
fi

# A real baseline file, behind the mode byte 0 that hands it over whole.
lateral=$root/target/release/lateral
if [ -x "$lateral" ]; then
  tmp=$(mktemp -d)
  if "$lateral" -q baseline build "$root/testdata/diet/logs" -o "$tmp/b.lat" >/dev/null 2>&1; then
    mkdir -p corpus/baseline
    { printf '\000'; cat "$tmp/b.lat"; } > corpus/baseline/diet-logs.lat
    # Its payload decompressed, behind mode 1 (wrapped as is) and mode 3
    # (compressed again), so mutations reach the decoder past the checksum.
    if command -v zstd >/dev/null 2>&1 &&
      tail -c +37 "$tmp/b.lat" | zstd -dq > "$tmp/payload" 2>/dev/null; then
      { printf '\001'; cat "$tmp/payload"; } > corpus/baseline/diet-logs.postcard
      { printf '\003'; cat "$tmp/payload"; } > corpus/baseline/diet-logs.repacked
    fi
  fi
  rm -rf "$tmp"
fi
for t in $(ls fuzz_targets | sed 's/\.rs$//'); do mkdir -p "corpus/$t"; done
