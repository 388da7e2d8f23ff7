#!/usr/bin/env python3
"""Scores lateral on the shared corpus's labelled lateral steps, as a
responder runs it: every ground-truth case of ../shared/corpus/expected.json
through `lateral analyze` with the given options (default settings when
none), then, per case:

- found: an alert relating the case's source and target (or its one
  address) belongs to an incident ranked 1 to 3;
- clean: that incident holds no alert about other hosts than the case's
  (two-address cases only; "normal traffic kept out of it").

Usage: scripts/eval-corpus.py [--bin target/release/lateral] [-- ANALYZE OPTIONS...]
"""
import json, os, subprocess, sys

args = sys.argv[1:]
binary = "target/release/lateral"
if args[:1] == ["--bin"]:
    binary, args = args[1], args[2:]
if args[:1] == ["--"]:
    args = args[1:]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.path.join(root, "..", "shared", "corpus")
binary = os.path.join(root, binary) if not os.path.isabs(binary) else binary
cases = json.load(open(os.path.join(corpus, "expected.json")))["ground_truth"]
found = clean = two = 0
for c in cases:
    files = [os.path.join(corpus, f) for f in c["files"] if not f.endswith(".yaml")]
    want = {c[k] for k in ("src_ip", "dst_ip") if c.get(k)}
    out = subprocess.run([binary, "-q", "analyze", *args, "--json", "-", *files],
                         capture_output=True, text=True)
    alerts = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    incs = {}
    for a in alerts:
        inc = a.get("lateral", {}).get("incident") or {}
        incs.setdefault(inc.get("id"), (inc.get("rank", 999), []))[1].append(a)
    best = None
    for iid, (rank, members) in incs.items():
        if any(want <= set(a.get("related", {}).get("ip", [])) for a in members):
            if best is None or rank < best[0]:
                best = (rank, members)
    ok = best is not None and best[0] <= 3
    found += ok
    note = ""
    if len(want) == 2:
        two += 1
        if ok:
            others = [a for a in best[1] if not set(a.get("related", {}).get("ip", [])) <= want]
            clean += not others
            note = f" other-host alerts in it: {len(others)}" if others else " clean"
    rank = best[0] if best else "-"
    print(f"{'FOUND' if ok else 'miss '} rank {rank!s:>3}  {len(alerts):4} alerts {len(incs):3} incidents  {c['id']}{note}")
print(f"found in a top-3 incident: {found}/{len(cases)}; two-address cases with a clean incident: {clean}/{two}")
